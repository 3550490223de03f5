//! The options shared by `check` and `explore`: which model, at what size.

use synack_model::generals::GeneralsModel;
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

    /// Segments the network may lose.
    #[arg(long, value_name = "N")]
    pub drops: Option<u8>,

    /// Segments the network may duplicate.
    #[arg(long, value_name = "N")]
    pub duplicates: Option<u8>,

    /// Host crashes (the TCB is lost; the host restarts quiet for MSL).
    #[arg(long, value_name = "N")]
    pub crashes: Option<u8>,

    /// Application bytes each side sends per connection.
    #[arg(long, value_name = "N")]
    pub data_bytes: Option<u8>,

    /// The larger configuration the benchmark figures use (a host crash added):
    /// millions of states, about a minute on two cores.
    #[arg(long)]
    pub full: bool,
}

/// A model built from the options, with the variant's name.
pub enum Selected {
    Tcp(String, TcpModel),
    Generals(String, GeneralsModel),
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

    /// The configuration the options describe, validated.
    pub fn config(&self) -> Result<Config, String> {
        let variant: Variant = self.variant.parse().map_err(|e| format!("{e}"))?;
        let mut config = if self.full {
            Config::full(variant)
        } else {
            Config::default_for(variant)
        };
        if let Some(k) = self.rounds {
            if variant != Variant::Generals {
                return Err("--rounds applies only to --variant generals".into());
            }
            config.rounds = k;
        }
        let tcp_only = [
            self.msl,
            self.incarnations,
            self.drops,
            self.duplicates,
            self.crashes,
            self.data_bytes,
        ];
        if variant == Variant::Generals && (tcp_only.iter().any(Option::is_some) || self.full) {
            return Err("--msl, --incarnations, --drops, --duplicates, --crashes, --data-bytes and --full do not apply to --variant generals".into());
        }
        if let Some(msl) = self.msl {
            // Keeps the retransmission timeout within the new MSL.
            config.set_msl(msl);
        }
        let overrides = [
            (self.incarnations, &mut config.incarnations),
            (self.drops, &mut config.drops),
            (self.duplicates, &mut config.duplicates),
            (self.crashes, &mut config.crashes),
            (self.data_bytes, &mut config.data_bytes),
        ];
        for (value, field) in overrides {
            if let Some(v) = value {
                *field = v;
            }
        }
        config.validate().map_err(|e| format!("{e}"))?;
        Ok(config)
    }

    pub fn select(&self) -> Result<Selected, String> {
        let config = self.config()?;
        let variant = config.variant;
        let name = variant.name().to_string();
        Ok(if variant == Variant::Generals {
            Selected::Generals(name, GeneralsModel::new(config).map_err(|e| e.to_string())?)
        } else {
            Selected::Tcp(name, TcpModel::new(config).map_err(|e| e.to_string())?)
        })
    }
}
