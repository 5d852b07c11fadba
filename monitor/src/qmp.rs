//! A QMP client for one command: [`execute`] greets QEMU's monitor socket, negotiates
//! capabilities and runs the command (`stop`, `quit`, `query-status`, `cont`, or one with
//! arguments such as `device_del`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// The longest a whole exchange may take.
const QMP_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest line accepted from QEMU.
const MAX_REPLY: usize = 1 << 20;

/// The command did not go through.
#[derive(Debug, thiserror::Error)]
pub enum QmpError {
    /// The socket could not be reached or broke.
    #[error("QMP socket {}", path.display())]
    Io {
        /// The socket.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// QEMU said something that is not QMP.
    #[error("QMP socket {}: unexpected reply {reply:?}", path.display())]
    Protocol {
        /// The socket.
        path: PathBuf,
        /// What came.
        reply: String,
    },
    /// QEMU refused the command.
    #[error("QMP socket {}: {command} failed: {error}", path.display())]
    Refused {
        /// The socket.
        path: PathBuf,
        /// The command.
        command: String,
        /// QEMU's error object.
        error: Value,
    },
    /// No answer in time.
    #[error("QMP socket {}: no answer within {} s", path.display(), QMP_TIMEOUT.as_secs())]
    Timeout {
        /// The socket.
        path: PathBuf,
    },
}

/// Runs `command` with `arguments` (a JSON object, or none) on the QMP socket at `socket`;
/// QEMU's `return` value. `quit` succeeds also when QEMU closes the socket before
/// answering.
pub async fn execute(
    socket: &Path,
    command: &str,
    arguments: Option<&Value>,
) -> Result<Value, QmpError> {
    match tokio::time::timeout(QMP_TIMEOUT, exchange(socket, command, arguments)).await {
        Ok(result) => result,
        Err(_) => Err(QmpError::Timeout {
            path: socket.to_path_buf(),
        }),
    }
}

async fn exchange(
    socket: &Path,
    command: &str,
    arguments: Option<&Value>,
) -> Result<Value, QmpError> {
    let path = socket.to_path_buf();
    let io = |source| QmpError::Io {
        path: path.clone(),
        source,
    };
    let stream = UnixStream::connect(socket).await.map_err(io)?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let greeting = next_message(&mut lines, &path).await?;
    if greeting.as_ref().and_then(|g| g.get("QMP")).is_none() {
        return Err(QmpError::Protocol {
            path,
            reply: format!("{greeting:?}"),
        });
    }
    for name in ["qmp_capabilities", command] {
        let request = match arguments {
            Some(arguments) if name == command => {
                json!({ "execute": name, "arguments": arguments })
            }
            _ => json!({ "execute": name }),
        };
        let request = request.to_string() + "\n";
        write.write_all(request.as_bytes()).await.map_err(io)?;
        loop {
            let Some(reply) = next_message(&mut lines, &path).await? else {
                if name == "quit" {
                    return Ok(Value::Null);
                }
                return Err(QmpError::Protocol {
                    path,
                    reply: "end of stream".into(),
                });
            };
            if let Some(value) = reply.get("return") {
                if name == command {
                    return Ok(value.clone());
                }
                break;
            }
            if let Some(error) = reply.get("error") {
                return Err(QmpError::Refused {
                    path,
                    command: name.to_owned(),
                    error: error.clone(),
                });
            }
            // Anything else is an asynchronous event: skip it.
        }
    }
    Err(QmpError::Protocol {
        path,
        reply: "no reply".into(),
    })
}

/// The next JSON object from QEMU, `None` at the end of the stream.
async fn next_message(
    lines: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
    path: &Path,
) -> Result<Option<Value>, QmpError> {
    let mut line = Vec::new();
    let read = lines
        .take(MAX_REPLY as u64)
        .read_until(b'\n', &mut line)
        .await;
    match read {
        Ok(0) => Ok(None),
        Ok(_) => serde_json::from_slice(&line)
            .map(Some)
            .map_err(|_| QmpError::Protocol {
                path: path.to_path_buf(),
                reply: String::from_utf8_lossy(&line).into_owned(),
            }),
        // QEMU going away on `quit` may reset the connection.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(None),
        Err(source) => Err(QmpError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::UnixListener;

    /// A QMP server that greets, answers capabilities, then `reply` to the command,
    /// with an event in between; returns the commands it received.
    async fn fake_qemu(listener: UnixListener, reply: &'static str) -> Vec<String> {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write
            .write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n")
            .await
            .unwrap();
        let mut received = Vec::new();
        let first = lines.next_line().await.unwrap().unwrap();
        received.push(first);
        write.write_all(b"{\"return\": {}}\n").await.unwrap();
        let second = lines.next_line().await.unwrap().unwrap();
        received.push(second);
        write
            .write_all(b"{\"event\": \"STOP\", \"timestamp\": {}}\n")
            .await
            .unwrap();
        write.write_all(reply.as_bytes()).await.unwrap();
        received
    }

    #[tokio::test]
    async fn a_command_is_sent_after_the_handshake() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vm.qmp");
        let listener = UnixListener::bind(&path).unwrap();
        let server = tokio::spawn(fake_qemu(
            listener,
            "{\"return\": {\"status\": \"paused\"}}\n",
        ));
        let value = execute(&path, "query-status", None).await.unwrap();
        assert_eq!(value["status"], "paused");
        assert_eq!(
            server.await.unwrap(),
            [
                "{\"execute\":\"qmp_capabilities\"}",
                "{\"execute\":\"query-status\"}"
            ]
        );
    }

    #[tokio::test]
    async fn arguments_go_with_the_command_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vm.qmp");
        let listener = UnixListener::bind(&path).unwrap();
        let server = tokio::spawn(fake_qemu(listener, "{\"return\": {}}\n"));
        let arguments = json!({ "id": "key" });
        execute(&path, "device_del", Some(&arguments))
            .await
            .unwrap();
        assert_eq!(
            server.await.unwrap(),
            [
                "{\"execute\":\"qmp_capabilities\"}",
                "{\"arguments\":{\"id\":\"key\"},\"execute\":\"device_del\"}"
            ]
        );
    }

    #[tokio::test]
    async fn errors_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vm.qmp");
        let listener = UnixListener::bind(&path).unwrap();
        let server = tokio::spawn(fake_qemu(
            listener,
            "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}\n",
        ));
        let error = execute(&path, "stop", None).await;
        assert!(matches!(error, Err(QmpError::Refused { .. })), "{error:?}");
        server.await.unwrap();
        let error = execute(&dir.path().join("absent.qmp"), "stop", None).await;
        assert!(matches!(error, Err(QmpError::Io { .. })), "{error:?}");
    }
}
