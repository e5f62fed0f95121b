//! The two ways Synthflow calls the integrator during a call, besides the post-call webhook:
//! the inbound-call webhook ([`inbound`]) and custom actions ([`custom_action`], with their
//! placeholders in [`template`]); and the information extractors' entries of the post-call
//! payload ([`extractor`]). Everything sent goes through the one outgoing door
//! (`outgoing`), journaled with the receiver's answer under its kind (`inbound`,
//! `action`).

pub mod custom_action;
pub mod extractor;
pub mod inbound;
pub mod template;
