//! Typed identifiers. Ids are chosen by the application (see [`crate::ports::IdGenerator`]) so the
//! same SQL works on every backend without AUTO_INCREMENT or RETURNING.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

id_type!(
    /// A person with an account, whatever their role.
    UserId
);
id_type!(
    /// A client company.
    CompanyId
);
id_type!(
    /// One message of a conversation.
    MessageId
);
id_type!(
    /// A document of the library.
    DocumentId
);
id_type!(
    /// A passage (chunk) of a library document.
    PassageId
);
id_type!(
    /// A token reservation (lease) taken before a model call.
    ReservationId
);
id_type!(
    /// An entry of the audit log.
    AuditId
);
