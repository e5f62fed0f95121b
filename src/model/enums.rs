//! The enums of the call record, each open-ended.
//!
//! The vendor's webhook docs already list values its get-call document does not (NOTES.md), so
//! every enum decodes an unlisted value into `Unknown(String)`, keeps it, and encodes it back
//! unchanged. `ALL` lists the values the document declares, in its order: the fixture coverage
//! check and the generator walk it.

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value the vendor's document does not list, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// Every value the vendor's document declares, in its order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Unknown(s) => s.as_str(),
                }
            }

            /// Whether the vendor's document lists this value.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Unknown(_))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $wire => $name::$variant, )+
                    other => $name::Unknown(other.to_owned()),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok($name::from(s))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok($name::from(s.as_ref()))
            }
        }
    };
}

open_enum! {
    /// Why the call ended, from the AI agent's point of view (`end_call_reason`).
    EndCallReason {
        HumanPickUpCutOff = "human_pick_up_cut_off",
        Voicemail = "voicemail",
        VoicemailCutOff = "voicemail_cut_off",
        VoicemailMessageLeft = "voicemail_message_left",
        AgentEndedCall = "agent_ended_call",
        HumanEndedCall = "human_ended_call",
        /// A user-defined reason; `custom_end_call_reason` then says which.
        CustomEndCall = "custom_end_call",
        Timeout = "timeout",
        Error = "error",
    }
}

open_enum! {
    /// Direction of the call (`type_of_call`).
    TypeOfCall {
        Inbound = "inbound",
        Outbound = "outbound",
    }
}

open_enum! {
    /// Which party ended the call (`telephony_hangup`).
    TelephonyHangup {
        Caller = "caller",
        Callee = "callee",
    }
}

open_enum! {
    /// Why the telephony connection was disconnected (`telephony_disconnect_reason`).
    TelephonyDisconnectReason {
        /// The wire value `unknown`: the carrier gave no reason (not the catch-all `Unknown(_)`).
        UnknownReason = "unknown",
        CalleeHangup = "callee_hangup",
        CallerHangup = "caller_hangup",
        Error = "error",
        Forbidden = "forbidden",
    }
}

open_enum! {
    /// The current status of the call (`status`). `pending`, `ringing` and `in-progress` are not
    /// final: such a call has no `telephony_end` yet.
    CallStatus {
        Pending = "pending",
        Ringing = "ringing",
        InProgress = "in-progress",
        Completed = "completed",
        NoAnswer = "no-answer",
        Busy = "busy",
        Failed = "failed",
        Canceled = "canceled",
    }
}

impl CallStatus {
    /// Whether the call can still change (`pending`, `ringing`, `in-progress`).
    pub fn is_live(&self) -> bool {
        matches!(
            self,
            CallStatus::Pending | CallStatus::Ringing | CallStatus::InProgress
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_value_round_trips_to_its_variant() {
        let v: CallStatus = serde_json::from_str("\"in-progress\"").unwrap();
        assert_eq!(v, CallStatus::InProgress);
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"in-progress\"");
    }

    #[test]
    fn unlisted_value_is_kept_and_reencoded_unchanged() {
        let v: EndCallReason = serde_json::from_str("\"human_goodbye\"").unwrap();
        assert_eq!(v, EndCallReason::Unknown("human_goodbye".into()));
        assert!(!v.is_known());
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"human_goodbye\"");
    }

    #[test]
    fn disconnect_reason_unknown_is_a_listed_value_not_the_catch_all() {
        let v: TelephonyDisconnectReason = serde_json::from_str("\"unknown\"").unwrap();
        assert_eq!(v, TelephonyDisconnectReason::UnknownReason);
        assert!(v.is_known());
    }

    #[test]
    fn all_lists_every_declared_value_once() {
        assert_eq!(EndCallReason::ALL.len(), 9);
        assert_eq!(CallStatus::ALL.len(), 8);
        assert_eq!(TelephonyDisconnectReason::ALL.len(), 5);
        assert!(CallStatus::ALL
            .iter()
            .all(|s| CallStatus::from(s.as_str()) == *s));
    }
}
