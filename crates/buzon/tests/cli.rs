//! The binary's own smoke test. It also makes `cargo test --workspace` build the `buzon`
//! binary that the end-to-end suite in `tests/` starts.

use std::process::Command;

#[test]
fn help_lists_every_command() {
    let output = Command::new(env!("CARGO_BIN_EXE_buzon"))
        .arg("--help")
        .output()
        .expect("buzon runs");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    for command in ["serve", "migrate", "user", "channel", "token", "sandbox"] {
        assert!(text.contains(command), "--help mentions {command}: {text}");
    }
}

#[test]
fn an_unknown_command_is_one_line_and_a_failure() {
    let output = Command::new(env!("CARGO_BIN_EXE_buzon"))
        .arg("frobnicate")
        .output()
        .expect("buzon runs");
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(text.trim().lines().count(), 1, "{text}");
    assert!(text.contains("frobnicate"));
}
