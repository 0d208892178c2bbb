//! Who is acting. Every use case takes an [`Actor`] and checks its role itself, so no adapter
//! can forget a check.

use crate::AppError;
use buzon_core::{Role, TokenId, UserId};

/// A signed-in user, an API token, the command line, or a rule of buzon itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person signed in to the pages.
    User {
        /// Who.
        id: UserId,
        /// What they may do.
        role: Role,
    },
    /// An API token.
    Token {
        /// Which token.
        id: TokenId,
        /// What it may do.
        role: Role,
        /// The user it acts for, if any.
        user: Option<UserId>,
    },
    /// Someone at the server's command line (who can read its configuration and database).
    Cli,
    /// A rule or worker of buzon itself, named for the audit log.
    System(&'static str),
}

impl Actor {
    /// What the actor may do: the command line and buzon's own rules may do anything.
    pub fn role(&self) -> Role {
        match self {
            Actor::User { role, .. } | Actor::Token { role, .. } => *role,
            Actor::Cli | Actor::System(_) => Role::Admin,
        }
    }

    /// Refuses an actor whose role is below `needed` (viewer < agent < admin).
    pub fn require(&self, needed: Role) -> Result<(), AppError> {
        let role = self.role();
        let allowed = match needed {
            Role::Viewer => true,
            Role::Agent => role.can_act(),
            Role::Admin => role.can_admin(),
        };
        if allowed {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The user behind the actor, if any (a token may act for one).
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User { id, .. } => Some(*id),
            Actor::Token { user, .. } => *user,
            Actor::Cli | Actor::System(_) => None,
        }
    }

    /// Whose idempotency keys these are: two actors never share a reply by accident, and
    /// each rule of buzon has keys of its own (`system:auto-reply`).
    pub fn key_namespace(&self) -> String {
        match self {
            Actor::System(rule) => format!("system:{rule}"),
            other => other.audit_name(),
        }
    }

    /// How the audit log names the actor: `user:3`, `token:2`, `cli` or `system`.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::User { id, .. } => format!("user:{id}"),
            Actor::Token { id, .. } => format!("token:{id}"),
            Actor::Cli => "cli".to_owned(),
            Actor::System(_) => "system".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_viewer_agent_admin() {
        let viewer = Actor::User {
            id: UserId(1),
            role: Role::Viewer,
        };
        let agent = Actor::Token {
            id: TokenId(2),
            role: Role::Agent,
            user: None,
        };
        assert!(viewer.require(Role::Viewer).is_ok());
        assert!(matches!(
            viewer.require(Role::Agent),
            Err(AppError::Forbidden)
        ));
        assert!(agent.require(Role::Agent).is_ok());
        assert!(matches!(
            agent.require(Role::Admin),
            Err(AppError::Forbidden)
        ));
        assert!(Actor::Cli.require(Role::Admin).is_ok());
        assert_eq!(agent.audit_name(), "token:2");
        assert_eq!(Actor::System("auto-hide").audit_name(), "system");
    }
}
