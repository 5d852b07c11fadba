//! [`Enforcer`]: the host policy's actions for a refusal, a silent VM or a token about
//! to expire: the alarm hook, then QMP `stop`/`quit`; each failure is an event.

use std::path::PathBuf;
use std::sync::Arc;

use uuid::Uuid;

use crate::alarm::run_alarm;
use crate::clock::now_ms;
use crate::config::{Enforcement, HostPolicy};
use crate::event::{Event, Kind};
use crate::identity::qmp_socket;
use crate::qmp;
use crate::writer::{chain, Writer};

/// Carries out the host policy; cheap to clone.
#[derive(Clone)]
pub struct Enforcer {
    policy: Arc<HostPolicy>,
    socket_dir: Arc<PathBuf>,
    writer: Writer,
}

impl Enforcer {
    /// The policy, for VMs whose QMP sockets are in `socket_dir`.
    pub fn new(policy: HostPolicy, socket_dir: PathBuf, writer: Writer) -> Self {
        Self {
            policy: Arc::new(policy),
            socket_dir: Arc::new(socket_dir),
            writer,
        }
    }

    /// `vm`'s agent refused, for `reason`.
    pub async fn refused(&self, vm: Uuid, reason: &str, detail: &str) {
        self.alarm(Kind::Refused, vm, reason, detail).await;
        self.enforce(vm, self.policy.enforcement_for(reason)).await;
    }

    /// `vm` gave no verdict in time.
    pub async fn silent(&self, vm: Uuid, detail: &str) {
        self.alarm(Kind::Silent, vm, "", detail).await;
        self.enforce(vm, self.policy.on_silent).await;
    }

    /// `vm`'s accepted token expires soon.
    pub async fn expiring(&self, vm: Uuid, detail: &str) {
        self.alarm(Kind::Expiring, vm, "", detail).await;
    }

    async fn alarm(&self, kind: Kind, vm: Uuid, reason: &str, detail: &str) {
        let Some(command) = &self.policy.alarm_command else {
            return;
        };
        if let Err(e) = run_alarm(command, kind, vm, reason, detail).await {
            let event = Event::new(now_ms(), vm, Kind::AlarmFailed).with_detail(chain(&e));
            self.writer.record(event).await;
        }
    }

    async fn enforce(&self, vm: Uuid, enforcement: Enforcement) {
        let Some(command) = enforcement.qmp_command() else {
            return;
        };
        let socket = qmp_socket(&self.socket_dir, vm);
        let event = match qmp::execute(&socket, command, None).await {
            Ok(_) => Event::new(now_ms(), vm, Kind::Enforced).with_detail(format!("qmp {command}")),
            Err(e) => Event::new(now_ms(), vm, Kind::EnforceFailed)
                .with_detail(format!("qmp {command}: {}", chain(&e))),
        };
        self.writer.record(event).await;
    }
}
