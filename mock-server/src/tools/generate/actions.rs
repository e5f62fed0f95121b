//! What the agent did and learnt on a call: collected variables, prompt variables and executed
//! actions.

use rand::rngs::ChaCha8Rng;
use rand::RngExt;
use serde_json::{json, Map, Value};
use synthflow::model::{CollectedVariable, CollectedVariables};

use super::kinds::Kind;
use super::people::{Agent, Person, Purpose};
use super::transcript::{money, Facts};

fn var(value: Option<Value>) -> CollectedVariable {
    CollectedVariable {
        collected: Some(value.is_some()),
        value: Some(value),
        extra: Map::new(),
    }
}

/// Variables the agent collects, the second one still `null` when `partial`.
pub(super) fn collected(
    a: &Agent,
    f: &Facts,
    partial: bool,
    rng: &mut ChaCha8Rng,
) -> CollectedVariables {
    let (first, second): ((&str, Value), (&str, Value)) = match a.purpose {
        Purpose::AppointmentReminder => (
            ("appointment_confirmed", json!(true)),
            ("reschedule_to", json!(f.slot)),
        ),
        Purpose::OrderConfirmation => (
            ("order_confirmed", json!(true)),
            ("delivery_notes", json!("Leave at the front desk")),
        ),
        Purpose::PaymentReminder => (
            ("wants_payment_plan", json!(true)),
            ("payment_amount", json!(f.amount_cents as f64 / 200.0)),
        ),
        Purpose::PropertyInquiry => (
            ("listing", json!(format!("{}, two-bedroom", f.street))),
            ("viewing_date", json!(f.slot)),
        ),
        Purpose::SupportLine => (("unit", json!(f.unit)), ("ticket_id", json!(f.ticket))),
    };
    let second_set = !partial && rng.random_bool(0.6);
    let mut vars = std::collections::BTreeMap::new();
    vars.insert(first.0.to_owned(), var(Some(first.1)));
    vars.insert(
        second.0.to_owned(),
        var(if second_set { Some(second.1) } else { None }),
    );
    let mut out = CollectedVariables::new();
    out.insert(a.model_id.clone(), vars);
    out
}

pub(super) fn prompt_variables(
    a: &Agent,
    p: &Person,
    f: &Facts,
    nested: bool,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("customer_name".into(), json!(p.full));
    match a.purpose {
        Purpose::AppointmentReminder => {
            m.insert("appointment_time".into(), json!(f.slot));
        }
        Purpose::OrderConfirmation => {
            m.insert("order_id".into(), json!(f.order));
        }
        Purpose::PaymentReminder => {
            m.insert("balance".into(), json!(money(f.amount_cents)));
        }
        Purpose::PropertyInquiry | Purpose::SupportLine => {}
    }
    if nested {
        m.insert(
            "account".into(),
            json!({"id": f.ticket, "tags": ["priority", "returning"], "contact": {"phone": p.phone, "timezone": p.timezone}}),
        );
    }
    m
}

pub(super) fn executed_actions(
    kind: Kind,
    a: &Agent,
    p: &Person,
    custom: Option<&str>,
) -> Map<String, Value> {
    let mut m = Map::new();
    if kind == Kind::CustomEnd {
        m.insert(
            "end_call_webhook".into(),
            json!({"type": "webhook", "executed": true,
                   "payload": {"phone": p.phone, "lists": ["internal_dnc"], "reason": custom,
                               "source": {"agent": a.model_id, "company": a.company}},
                   "response": {"status_code": 204, "body": null}}),
        );
    } else if kind.is_conversation() {
        m.insert(
            "crm_update".into(),
            json!({"type": "webhook", "executed": true,
                   "payload": {"phone": p.phone, "fields": ["last_call", "outcome"]},
                   "response": {"status_code": 200, "body": {"updated": true}}}),
        );
    }
    m
}
