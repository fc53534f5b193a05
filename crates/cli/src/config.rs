//! The config file an office keeps for the options it always uses (`SITECENSUS_CONFIG=FILE`):
//! a TOML table per command (`[scan]`, `[report]`, `[census.start]`, …) of long option names
//! and values. Its options go in front of the command line's, so an option given on the command
//! line wins (a list option such as `--header` takes both). Clap reads no config files itself.

use std::ffi::OsString;

/// The environment variable naming the config file.
pub const ENV: &str = "SITECENSUS_CONFIG";

/// Commands a config file may set options of; `census` holds `start` and `status`.
const COMMANDS: &[&str] = &["scan", "page", "report", "probe", "census", "worker", "demo", "bench"];

/// The config file the environment names, if any.
pub fn from_env() -> Option<std::path::PathBuf> {
    std::env::var_os(ENV).filter(|p| !p.is_empty()).map(Into::into)
}

/// The command line with the options of the config file at `path` for its command put after the
/// command's name; unchanged without a file. Also names the file read, if any.
///
/// # Errors
/// When the file cannot be read, is not TOML, names a command sitecensus does not have, or
/// holds a value that is not an option's (a table, a date): with the file and line.
pub fn merged_args(
    args: Vec<OsString>,
    path: Option<&std::path::Path>,
) -> Result<(Vec<OsString>, Option<String>), String> {
    let Some(path) = path else { return Ok((args, None)) };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{ENV}={shown}: cannot read it: {e}"))?;
    let line_of = |i: usize| text[..i.min(text.len())].matches('\n').count() + 1;
    let find = |needle: &str| text.find(needle).map_or(1, line_of);
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| format!("{shown}:{}: {}", e.span().map_or(1, |s| line_of(s.start)), e.message().trim_end()))?;
    for key in table.keys() {
        if !COMMANDS.contains(&key.as_str()) {
            return Err(format!(
                "{shown}:{}: no command {key:?} (tables are named after commands: {})",
                find(key),
                COMMANDS.join(", ")
            ));
        }
    }
    // The command: the first argument that is not an option (`-v scan …` has one before it).
    let Some(at) = args.iter().skip(1).position(|a| !a.to_string_lossy().starts_with('-')).map(|i| i + 1) else {
        return Ok((args, Some(shown)));
    };
    let command = args[at].to_string_lossy().into_owned();
    let (section, insert_at) = match (command.as_str(), args.get(at + 1).map(|a| a.to_string_lossy().into_owned())) {
        ("census", Some(sub)) => (table.get("census").and_then(|c| c.get(&sub)), at + 2),
        (c, _) => (table.get(c), at + 1),
    };
    let Some(section) = section else { return Ok((args, Some(shown))) };
    let toml::Value::Table(options) = section else {
        return Err(format!("{shown}:{}: [{command}] must be a table of options", find(&command)));
    };
    let mut given = Vec::new();
    for (name, value) in options {
        let bad = || format!("{shown}:{}: {name}: an option takes text, a number, true or a list of them", find(name));
        let one = |v: &toml::Value| -> Result<String, String> {
            match v {
                toml::Value::String(s) => Ok(s.clone()),
                toml::Value::Integer(n) => Ok(n.to_string()),
                toml::Value::Float(x) => Ok(x.to_string()),
                _ => Err(bad()),
            }
        };
        match value {
            toml::Value::Boolean(true) => given.push(OsString::from(format!("--{name}"))),
            toml::Value::Boolean(false) => {}
            toml::Value::Array(items) => {
                for item in items {
                    given.push(OsString::from(format!("--{name}={}", one(item)?)));
                }
            }
            v => given.push(OsString::from(format!("--{name}={}", one(v)?))),
        }
    }
    let mut out = args;
    let tail = out.split_off(insert_at.min(out.len()));
    out.extend(given);
    out.extend(tail);
    Ok((out, Some(shown)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_config<T>(text: &str, f: impl FnOnce(&std::path::Path) -> T) -> T {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sitecensus.toml");
        std::fs::write(&path, text).unwrap();
        f(&path)
    }

    fn args(s: &[&str]) -> Vec<OsString> {
        s.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_commands_options_go_before_the_users() {
        let text = "[scan]\nper-host-rps = 2\nheader = [\"X-Office: jx\", \"X-Round: 4\"]\nno-render = true\nallow-private = false\n[census.start]\nname = \"第4轮\"\n";
        let (got, file) = with_config(text, |p| {
            merged_args(args(&["sc", "-v", "scan", "http://a/", "--per-host-rps", "0"]), Some(p))
        })
        .unwrap();
        assert!(file.is_some());
        let want = args(&[
            "sc",
            "-v",
            "scan",
            "--header=X-Office: jx",
            "--header=X-Round: 4",
            "--no-render",
            "--per-host-rps=2",
            "http://a/",
            "--per-host-rps",
            "0",
        ]);
        assert_eq!(got, want);
        let (got, _) =
            with_config(text, |p| merged_args(args(&["sc", "census", "start", "--sites", "f"]), Some(p))).unwrap();
        assert_eq!(got, args(&["sc", "census", "start", "--name=第4轮", "--sites", "f"]));
        let (got, _) = with_config(text, |p| merged_args(args(&["sc", "report"]), Some(p))).unwrap();
        assert_eq!(got, args(&["sc", "report"]), "no [report]: nothing added");
    }

    #[test]
    fn a_bad_config_is_refused_with_its_line() {
        let err =
            with_config("[scan]\nper-host-rps = 2\n[scna]\nx = 1\n", |p| merged_args(args(&["sc", "scan"]), Some(p)))
                .unwrap_err();
        assert!(err.ends_with(":3: no command \"scna\" (tables are named after commands: scan, page, report, probe, census, worker, demo, bench)"), "{err}");
        let err =
            with_config("[scan]\nresolve = { a = 1 }\n", |p| merged_args(args(&["sc", "scan"]), Some(p))).unwrap_err();
        assert!(err.contains(":2: resolve:"), "{err}");
        let err = with_config("[scan\n", |p| merged_args(args(&["sc", "scan"]), Some(p))).unwrap_err();
        assert!(err.contains("sitecensus.toml:1:"), "{err}");
    }
}
