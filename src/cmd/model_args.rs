//! The options shared by `check` and `explore`: which model, at what size.

use synack_model::{Config, TcpModel, Variant};

#[derive(clap::Args, Clone, Debug)]
pub struct ModelArgs {
    /// Which model: standard, or one design decision changed (see `--variant list`).
    #[arg(long, default_value = "standard", value_name = "NAME")]
    pub variant: String,

    /// Rounds of acknowledgement (the generals variant only).
    #[arg(long, value_name = "K")]
    pub rounds: Option<u8>,

    /// Maximum segment lifetime, in ticks.
    #[arg(long, value_name = "N")]
    pub msl: Option<u8>,

    /// How many connections the client may open, one after another, on the same 4-tuple.
    #[arg(long, value_name = "N")]
    pub incarnations: Option<u8>,
}

/// A model built from the options, with the variant's name.
pub enum Selected {
    Tcp(String, TcpModel),
}

impl ModelArgs {
    /// `--variant list`: the variants and the question each one answers.
    pub fn wants_list(&self) -> bool {
        self.variant == "list"
    }

    pub fn print_list() {
        for v in Variant::ALL {
            println!("{:<24} {}", v.name(), v.question());
        }
    }

    pub fn select(&self) -> Result<Selected, String> {
        let variant: Variant = self.variant.parse().map_err(|e| format!("{e}"))?;
        let mut config = Config::default_for(variant);
        if let Some(k) = self.rounds {
            if variant != Variant::Generals {
                return Err("--rounds applies only to --variant generals".into());
            }
            config.rounds = k;
        }
        if variant == Variant::Generals && (self.msl.is_some() || self.incarnations.is_some()) {
            return Err("--msl and --incarnations do not apply to --variant generals".into());
        }
        if let Some(msl) = self.msl {
            config.msl = msl;
        }
        if let Some(n) = self.incarnations {
            config.incarnations = n;
        }
        config.validate().map_err(|e| format!("{e}"))?;
        let name = variant.name().to_string();
        let model = TcpModel::new(config).map_err(|e| format!("{e}"))?;
        Ok(Selected::Tcp(name, model))
    }
}
