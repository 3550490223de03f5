//! `synack explore`: stateright's Explorer, a web UI to walk the model by hand.
//! Its state panel shows the sequence diagram of the path so far (`Model::as_svg`).

use std::fmt::Debug;
use std::hash::Hash;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::process::ExitCode;

use stateright::Model;

use super::model_args::{ModelArgs, Selected};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelArgs,

    /// Address to serve the Explorer on (keep it on loopback).
    #[arg(long, default_value = "127.0.0.1:3000", value_name = "ADDR:PORT")]
    pub addr: String,
}

pub fn run(args: Args) -> ExitCode {
    if args.model.wants_list() {
        ModelArgs::print_list();
        return ExitCode::SUCCESS;
    }
    let addr = match resolve(&args.addr) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("synack explore: {msg}");
            return ExitCode::from(2);
        }
    };
    match args.model.select() {
        Ok(Selected::Tcp(name, model)) => serve(&name, model, addr),
        Ok(Selected::Generals(name, model)) => serve(&name, model, addr),
        Err(msg) => {
            eprintln!("synack explore: {msg}");
            ExitCode::from(2)
        }
    }
}

/// Resolves the address and makes sure the port is free, because the
/// Explorer's server would otherwise panic on a busy port.
fn resolve(addr: &str) -> Result<SocketAddr, String> {
    let addr = addr
        .to_socket_addrs()
        .map_err(|e| format!("bad --addr {addr:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("bad --addr {addr:?}: resolves to no address"))?;
    TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    Ok(addr)
}

fn serve<M>(variant: &str, model: M, addr: SocketAddr) -> ExitCode
where
    M: Model + Send + Sync + 'static,
    M::State: Hash + Clone + PartialEq + Debug + Send + Sync + 'static,
    M::Action: Clone + PartialEq + Debug + Send + Sync + 'static,
{
    println!("synack explore: serving the {variant} model at http://{addr}/ (Ctrl-C to stop)");
    // Blocks for as long as the server runs.
    let _checker = model.checker().serve(addr);
    ExitCode::SUCCESS
}
