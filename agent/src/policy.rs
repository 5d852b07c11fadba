//! [`Policy`]: what the agent does when it refuses: log, alarm, poweroff, deny.

use std::fmt;
use std::process::Command;
use std::str::FromStr;

use serde::Deserialize;

use crate::verdict::{Refusal, Value};

/// One thing to do on a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Print the refusal as one `key=value` line on stderr.
    Log,
    /// Run the alarm command with the reason.
    Alarm,
    /// Exit with the reason's exit code (otherwise 0).
    Deny,
    /// Run the poweroff command.
    Poweroff,
}

impl Action {
    const ALL: [Action; 4] = [Action::Log, Action::Alarm, Action::Deny, Action::Poweroff];

    fn name(self) -> &'static str {
        match self {
            Action::Log => "log",
            Action::Alarm => "alarm",
            Action::Deny => "deny",
            Action::Poweroff => "poweroff",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The text is not an action name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown action {0:?} (expected log, alarm, deny or poweroff)")]
pub struct UnknownAction(String);

impl FromStr for Action {
    type Err = UnknownAction;

    fn from_str(text: &str) -> Result<Self, UnknownAction> {
        Action::ALL
            .into_iter()
            .find(|action| action.name() == text)
            .ok_or_else(|| UnknownAction(text.to_owned()))
    }
}

/// A program and its arguments, never empty, run without a shell.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Vec<String>")]
pub struct CommandLine {
    program: String,
    args: Vec<String>,
}

/// A command line must name a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a command needs at least a program")]
pub struct EmptyCommand;

impl TryFrom<Vec<String>> for CommandLine {
    type Error = EmptyCommand;

    fn try_from(mut argv: Vec<String>) -> Result<Self, EmptyCommand> {
        if argv.is_empty() {
            return Err(EmptyCommand);
        }
        let program = argv.remove(0);
        Ok(Self {
            program,
            args: argv,
        })
    }
}

/// Words separated by white space, without quoting: `"reboot -f"`.
impl FromStr for CommandLine {
    type Err = EmptyCommand;

    fn from_str(text: &str) -> Result<Self, EmptyCommand> {
        Self::try_from(
            text.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        )
    }
}

impl CommandLine {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        command
    }
}

/// The `[policy]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// The actions, carried out in the order log, alarm, poweroff, deny whatever the order
    /// here.
    pub actions: Vec<Action>,
    /// Program and arguments run by `alarm`; the reason name is appended as the last
    /// argument, and `VUSBKEY_REASON`, `VUSBKEY_EXIT_CODE`, `VUSBKEY_MESSAGE` and
    /// `VUSBKEY_DETAIL` are set in its environment.
    pub alarm_command: Option<CommandLine>,
    /// Program and arguments run by `poweroff`.
    pub poweroff_command: CommandLine,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            actions: vec![Action::Log, Action::Deny],
            alarm_command: None,
            poweroff_command: CommandLine {
                program: "systemctl".to_owned(),
                args: vec!["poweroff".to_owned()],
            },
        }
    }
}

impl Policy {
    /// Carries out the policy for `refusal`, and returns the process exit code. `report`
    /// (the report to the host monitor) runs after `log` and `alarm`, before `poweroff`
    /// (which would stop the VM first). A failing alarm or poweroff command is reported on
    /// stderr and does not change the exit code. `alarm` without an alarm command does
    /// nothing ([`crate::Config::validate`] refuses that combination).
    pub fn enforce(&self, refusal: &Refusal, report: impl FnOnce()) -> u8 {
        if self.actions.contains(&Action::Log) {
            eprintln!("{refusal}");
        }
        if let (true, Some(alarm)) = (self.actions.contains(&Action::Alarm), &self.alarm_command) {
            let mut command = alarm.command();
            command
                .arg(refusal.reason.name())
                .env("VUSBKEY_REASON", refusal.reason.name())
                .env("VUSBKEY_EXIT_CODE", refusal.reason.exit_code().to_string())
                .env("VUSBKEY_MESSAGE", refusal.reason.message())
                .env("VUSBKEY_DETAIL", &refusal.detail);
            run(Action::Alarm, command);
        }
        report();
        if self.actions.contains(&Action::Poweroff) {
            run(Action::Poweroff, self.poweroff_command.command());
        }
        if self.actions.contains(&Action::Deny) {
            refusal.reason.exit_code()
        } else {
            0
        }
    }
}

/// Runs `command` to completion, reporting on stderr if it cannot start or fails.
fn run(action: Action, mut command: Command) {
    let failure = match command.status() {
        Ok(status) if status.success() => return,
        Ok(status) => status.to_string(),
        Err(e) => e.to_string(),
    };
    let program = command.get_program().to_string_lossy().into_owned();
    eprintln!(
        "vusbkey-agent: action-failed action={action} command={} error={}",
        Value(&program),
        Value(&failure)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_from_their_names() {
        for action in Action::ALL {
            assert_eq!(action.to_string().parse::<Action>(), Ok(action));
        }
        assert!("halt".parse::<Action>().is_err());
    }

    #[test]
    fn command_lines_are_never_empty() {
        assert_eq!("  ".parse::<CommandLine>(), Err(EmptyCommand));
        let reboot: CommandLine = "reboot  -f".parse().unwrap();
        assert_eq!(reboot.program, "reboot");
        assert_eq!(reboot.args, ["-f"]);
    }
}
