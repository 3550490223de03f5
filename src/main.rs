//! `synack`: the command-line front end.

fn main() {
    eprintln!("synack: not yet wired up");
    std::process::exit(2);
}
