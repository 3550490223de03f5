//! Shared helpers for the criterion benchmarks.

use std::path::PathBuf;

/// Where criterion writes its output, found the way criterion finds it:
/// `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else the
/// workspace's `target/criterion` (bench binaries run inside `benches/`, so a
/// relative `target/` would be the wrong one).
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("criterion")
}

/// Records a measured quantity that is not a time (bytes per TIME-WAIT entry,
/// the size of a model state) beside criterion's output, for
/// `synack bench-report`: `<criterion dir>/synack-facts/<name>.json` holding
/// `{"name": ..., "value": ..., "unit": ...}`. `name` is a dotted key such
/// as `table.time_wait_bytes_per_entry`.
///
/// A failure to write is reported on stderr and otherwise ignored: a bench
/// must not die because its side output could not be saved, and the report
/// then shows the quantity as not measured rather than inventing it.
pub fn record_fact(name: &str, value: f64, unit: &str) {
    let dir = criterion_dir().join("synack-facts");
    let path = dir.join(format!("{name}.json"));
    let body = format!(
        "{{\"name\":{},\"value\":{},\"unit\":{}}}\n",
        json_string(name),
        if value.is_finite() {
            value.to_string()
        } else {
            "null".to_string()
        },
        json_string(unit)
    );
    let result = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, body));
    if let Err(e) = result {
        eprintln!("could not record {name} in {}: {e}", path.display());
    }
}

/// A JSON string literal; the names and units written here are plain ASCII,
/// but escape anyway so that the file always parses.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::json_string;

    #[test]
    fn json_strings_escape_quotes_and_controls() {
        assert_eq!(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
        assert_eq!(json_string("B"), "\"B\"");
    }
}
