//! [`run_alarm`]: the operator's alarm hook, a command run without a shell.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;
use uuid::Uuid;

use crate::event::Kind;

/// The longest an alarm command may run; it is killed after.
const ALARM_TIMEOUT: Duration = Duration::from_secs(30);

/// The alarm command did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum AlarmError {
    /// It could not be started.
    #[error("cannot run {program}")]
    Start {
        /// The program.
        program: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// It failed.
    #[error("{program} failed: {status}")]
    Failed {
        /// The program.
        program: String,
        /// How it ended.
        status: std::process::ExitStatus,
    },
    /// It ran too long and was killed.
    #[error("{program} ran longer than {} s and was killed", ALARM_TIMEOUT.as_secs())]
    Timeout {
        /// The program.
        program: String,
    },
}

/// Runs `command` (program and arguments) with the alarm's kind and the VM appended, and
/// `VUSBKEY_ALARM`, `VUSBKEY_VM`, `VUSBKEY_REASON` (empty unless a refusal) and
/// `VUSBKEY_DETAIL` in its environment; waits for it.
pub async fn run_alarm(
    command: &[String],
    kind: Kind,
    vm: Uuid,
    reason: &str,
    detail: &str,
) -> Result<(), AlarmError> {
    let Some((program, args)) = command.split_first() else {
        return Ok(());
    };
    let vm = vm.hyphenated().to_string();
    let mut child = Command::new(program)
        .args(args)
        .arg(kind.name())
        .arg(&vm)
        .env("VUSBKEY_ALARM", kind.name())
        .env("VUSBKEY_VM", &vm)
        .env("VUSBKEY_REASON", reason)
        .env("VUSBKEY_DETAIL", detail)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| AlarmError::Start {
            program: program.clone(),
            source,
        })?;
    match tokio::time::timeout(ALARM_TIMEOUT, child.wait()).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(AlarmError::Failed {
            program: program.clone(),
            status,
        }),
        Ok(Err(source)) => Err(AlarmError::Start {
            program: program.clone(),
            source,
        }),
        Err(_) => Err(AlarmError::Timeout {
            program: program.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_alarm_gets_kind_vm_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("alarm");
        let script = format!(
            "echo \"$1 $2 $VUSBKEY_ALARM $VUSBKEY_REASON $VUSBKEY_DETAIL\" > {}",
            out.display()
        );
        let command = [
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            script,
            "alarm".to_owned(),
        ];
        run_alarm(
            &command,
            Kind::Refused,
            Uuid::from_u128(1),
            "wrong-vm",
            "a copy",
        )
        .await
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "refused 00000000-0000-0000-0000-000000000001 refused wrong-vm a copy\n"
        );
        let failing = ["/bin/false".to_owned()];
        let error = run_alarm(&failing, Kind::Silent, Uuid::nil(), "", "").await;
        assert!(matches!(error, Err(AlarmError::Failed { .. })), "{error:?}");
        let missing = ["/nonexistent/alarm".to_owned()];
        let error = run_alarm(&missing, Kind::Silent, Uuid::nil(), "", "").await;
        assert!(matches!(error, Err(AlarmError::Start { .. })), "{error:?}");
    }
}
