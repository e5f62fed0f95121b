//! The runner: sends each generated case and its probes, times them, watches the API mock, stops
//! early once a property has failed often enough to be sure, then shrinks each failure.
//!
//! Order of work, so that evidence is clean:
//! 1. per case: the signed valid delivery, the same delivery again (a retry), a malformed body,
//!    and — without `--api-mock` — the three refusal probes;
//! 2. with `--api-mock`: once the API mock has been quiet, the refusal probes; a probe answered
//!    2xx is a refusal only if no API request follows it;
//! 3. shrinking, except for timing failures and side-effect evidence.
//!
//! Stopping: a property stops being checked after [`ReceiverCheck::max_failures`] failures; the
//! whole run stops after [`ReceiverCheck::max_timeouts`] requests got no answer in time, so a
//! receiver that never answers gets a verdict in about `max_timeouts × time limit`.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::Value;
use synthflow::webhook::sign;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::config::{ApiMockSource, ReceiverCheck, RunError};
use super::generate::{self, MalformedKind};
use super::properties::{self, Answer, Property, Refusal};
use super::report::{Example, Outcome, PropertyResult, Shrunk};
use super::shrink;
use super::Delivery;

/// Which request of a case.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Probe {
    /// Correctly signed.
    Valid,
    /// Signed with another secret.
    BadSignature,
    /// No signature header.
    MissingSignature,
    /// Signed over another identity.
    OtherCall(String),
    /// A spoilt body, correctly signed.
    Malformed(MalformedKind),
}

impl Probe {
    fn for_refusal(p: Property, other: &str) -> Probe {
        match p {
            Property::BadSignatureRefused => Probe::BadSignature,
            Property::MissingSignatureRefused => Probe::MissingSignature,
            _ => Probe::OtherCall(other.to_owned()),
        }
    }
}

struct Sender<'a> {
    check: &'a ReceiverCheck,
    http: reqwest::Client,
    timeouts: usize,
}

impl Sender<'_> {
    /// The request for `payload` sent as `probe`, and its signature header value.
    fn request(&self, probe: &Probe, payload: &Value) -> (Delivery, Option<String>) {
        let mut d = self.check.endpoint.render(&self.check.url, payload);
        let secret = self.check.secret.as_deref();
        let sig = match (probe, secret) {
            (_, None) | (Probe::MissingSignature, _) => None,
            (Probe::BadSignature, Some(s)) => {
                Some(sign(&format!("{s}\u{0}not-it"), &d.signed_over))
            }
            (Probe::OtherCall(id), Some(s)) => Some(sign(s, id)),
            (Probe::Valid | Probe::Malformed(_), Some(s)) => Some(sign(s, &d.signed_over)),
        };
        if let Probe::Malformed(kind) = probe {
            let body = d.body.take().unwrap_or_default();
            d.body = Some(kind.body(&self.check.endpoint, &body));
        }
        (d, sig)
    }

    async fn send(&mut self, probe: &Probe, payload: &Value) -> Answer {
        let (d, sig) = self.request(probe, payload);
        let method =
            reqwest::Method::from_bytes(d.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut req = self.http.request(method, &d.url);
        let mut own_type = false;
        for (name, value) in &d.headers {
            // A header the action names but HTTP cannot carry is left out, as the mock does.
            if let (Ok(n), Ok(v)) = (
                reqwest::header::HeaderName::from_bytes(name.as_bytes()),
                reqwest::header::HeaderValue::from_str(value),
            ) {
                own_type |= n == reqwest::header::CONTENT_TYPE;
                req = req.header(n, v);
            }
        }
        if let Some(body) = d.body {
            if !own_type {
                req = req.header("content-type", "application/json");
            }
            req = req.body(body);
        }
        if let Some(s) = sig {
            req = req.header(self.check.header.as_str(), s);
        }
        let started = Instant::now();
        let answer = match req.send().await {
            Ok(resp) => {
                let code = resp.status().as_u16();
                match resp.bytes().await {
                    Ok(b) => Answer::Status {
                        code,
                        body: b.to_vec(),
                        elapsed: started.elapsed(),
                    },
                    Err(e) if e.is_timeout() => Answer::TimedOut,
                    Err(e) => Answer::Failed(error_chain(e)),
                }
            }
            Err(e) if e.is_timeout() => Answer::TimedOut,
            Err(e) => Answer::Failed(error_chain(e)),
        };
        if answer == Answer::TimedOut {
            self.timeouts += 1;
        }
        answer
    }

    fn out_of_time(&self) -> bool {
        self.timeouts >= self.check.max_timeouts
    }
}

/// The error and its causes, without the URL (the report names it once, at the top).
fn error_chain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut s = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// The tally of every property.
struct Tally {
    results: BTreeMap<Property, PropertyResult>,
    max_failures: usize,
}

impl Tally {
    fn wants(&self, p: Property) -> bool {
        self.results
            .get(&p)
            .is_some_and(|r| r.failed < self.max_failures)
    }

    fn record(
        &mut self,
        p: Property,
        verdict: Result<(), String>,
        example: Example,
        evidence: &str,
    ) {
        let Some(r) = self.results.get_mut(&p) else {
            return;
        };
        if r.failed >= self.max_failures {
            return;
        }
        r.checked += 1;
        match verdict {
            Ok(()) => {
                if !evidence.is_empty() {
                    r.evidence.insert(evidence.to_owned());
                }
            }
            Err(msg) => {
                r.failed += 1;
                if !evidence.is_empty() {
                    r.evidence.insert(evidence.to_owned());
                }
                r.failures.push(format!("case {}: {msg}", example.case));
                if r.example.is_none() {
                    r.example = Some(example);
                }
            }
        }
    }
}

/// Runs the check and returns the verdict on every property.
pub async fn check_receiver(check: ReceiverCheck) -> Result<Outcome, RunError> {
    let started = Instant::now();
    let http = reqwest::Client::builder()
        .timeout(check.time_limit)
        .build()
        .map_err(|e| RunError::Client(e.to_string()))?;
    let api_mock = match &check.api_mock {
        None => None,
        Some(src) => {
            let listener = match src {
                ApiMockSource::Addr(a) => TcpListener::bind(a).map_err(RunError::ApiMock)?,
                ApiMockSource::Listener(l) => l.try_clone().map_err(RunError::ApiMock)?,
            };
            let server = MockServer::builder().listener(listener).start().await;
            Mock::given(any())
                .respond_with(
                    ResponseTemplate::new(200).set_body_json(serde_json::json!({"status": "ok"})),
                )
                .mount(&server)
                .await;
            Some(server)
        }
    };
    let signed = check.secret.is_some();
    let props = Property::for_endpoint(&check.endpoint, signed);
    let mut tally = Tally {
        results: props
            .iter()
            .map(|p| (*p, PropertyResult::new(*p)))
            .collect(),
        max_failures: check.max_failures,
    };
    let mut sender = Sender {
        check: &check,
        http,
        timeouts: 0,
    };
    let limit = check.time_limit;
    let cases = generate::cases(&check.endpoint, check.seed, check.cases);
    let refusals: Vec<Property> = props.iter().copied().filter(|p| p.is_refusal()).collect();
    let mut queued: Vec<(Property, Probe, usize, Value)> = Vec::new();
    let valid_props = [
        Property::SignedAccepted,
        Property::NoServerError,
        Property::InboundReplyShape,
        Property::ActionReplyJson,
    ];
    let mut sent = 0usize;

    for case in &cases {
        if sender.out_of_time() {
            break;
        }
        let ex = |probe: Probe, payload: &Value| Example {
            case: case.index,
            probe,
            payload: payload.clone(),
            shrinkable: true,
        };
        if valid_props.iter().any(|p| tally.wants(*p)) || tally.wants(Property::RetrySameAnswer) {
            let first = sender.send(&Probe::Valid, &case.payload).await;
            sent += 1;
            for (p, v) in properties::judge_valid(&check.endpoint, &first, limit) {
                tally.record(p, v, ex(Probe::Valid, &case.payload), "");
            }
            if tally.wants(Property::RetrySameAnswer)
                && first != Answer::TimedOut
                && !sender.out_of_time()
            {
                let second = sender.send(&Probe::Valid, &case.payload).await;
                sent += 1;
                tally.record(
                    Property::WithinTimeLimit,
                    properties::judge_time(&second, limit),
                    ex(Probe::Valid, &case.payload),
                    "",
                );
                if let Some(v) = properties::judge_retry(&first, &second, limit) {
                    tally.record(
                        Property::RetrySameAnswer,
                        v,
                        ex(Probe::Valid, &case.payload),
                        "",
                    );
                }
            }
        }
        if let Some(kind) = case.malformed {
            if tally.wants(Property::MalformedBodyRefused) && !sender.out_of_time() {
                let probe = Probe::Malformed(kind);
                let a = sender.send(&probe, &case.payload).await;
                sent += 1;
                tally.record(
                    Property::WithinTimeLimit,
                    properties::judge_time(&a, limit),
                    ex(probe.clone(), &case.payload),
                    "",
                );
                if let Some(v) = properties::judge_malformed(&a, limit) {
                    let v = v.map_err(|m| format!("{}: {m}", kind.name()));
                    tally.record(
                        Property::MalformedBodyRefused,
                        v,
                        ex(probe, &case.payload),
                        "",
                    );
                }
            }
        }
        for p in &refusals {
            if !tally.wants(*p) || sender.out_of_time() {
                continue;
            }
            let probe = Probe::for_refusal(*p, &case.other_identity);
            if api_mock.is_some() {
                queued.push((*p, probe, case.index, case.probe.clone()));
                continue;
            }
            let a = sender.send(&probe, &case.probe).await;
            sent += 1;
            tally.record(
                Property::WithinTimeLimit,
                properties::judge_time(&a, limit),
                ex(probe.clone(), &case.probe),
                "",
            );
            let (verdict, evidence) = match properties::judge_refusal(&a, limit) {
                Refusal::Refused => (Ok(()), "a 4xx status"),
                Refusal::Accepted => (
                    Err(format!(
                        "{}; without --api-mock a 2xx is not a refusal",
                        a.describe(limit)
                    )),
                    "the status (no --api-mock to watch for side effects)",
                ),
                Refusal::Wrong(m) => (Err(m), "the status"),
                Refusal::TimedOut => continue,
            };
            tally.record(*p, verdict, ex(probe, &case.probe), evidence);
        }
    }

    if let Some(server) = &api_mock {
        sent += side_effect_phase(server, &mut sender, &mut tally, queued, limit).await;
    }

    let out_of_time = sender.out_of_time();
    let mut shrink_requests = 0;
    if !out_of_time {
        shrink_requests = shrink_failures(&mut sender, &mut tally).await;
    }
    let stopped_early = out_of_time.then(|| {
        format!(
            "stopped after {} requests got no answer within {} ms",
            sender.timeouts,
            limit.as_millis()
        )
    });
    let mut results: Vec<PropertyResult> = tally.results.into_values().collect();
    for r in &mut results {
        r.finish(stopped_early.as_deref());
    }
    Ok(Outcome {
        endpoint: check.endpoint.name().to_owned(),
        url: check.url.clone(),
        seed: check.seed,
        cases: check.cases,
        time_limit: limit,
        header: check.header.clone(),
        api_mock: api_mock.as_ref().map(|s| s.uri()),
        requests: sent + shrink_requests,
        results,
        stopped_early,
        elapsed: started.elapsed(),
    })
}

/// The refusal probes with the API mock watching. Returns the number of requests sent.
async fn side_effect_phase(
    server: &MockServer,
    sender: &mut Sender<'_>,
    tally: &mut Tally,
    queued: Vec<(Property, Probe, usize, Value)>,
    limit: Duration,
) -> usize {
    let valid_effects = settle(server).await;
    let mut pending: Vec<(Property, Example, String)> = Vec::new();
    let mut sent = 0;
    for (p, probe, case, payload) in queued {
        if sender.out_of_time() || !tally.wants(p) {
            continue;
        }
        let a = sender.send(&probe, &payload).await;
        sent += 1;
        let example = Example {
            case,
            probe,
            payload: payload.clone(),
            shrinkable: true,
        };
        tally.record(
            Property::WithinTimeLimit,
            properties::judge_time(&a, limit),
            example.clone(),
            "",
        );
        match properties::judge_refusal(&a, limit) {
            Refusal::Refused => tally.record(p, Ok(()), example, "a 4xx status"),
            Refusal::Wrong(m) => tally.record(p, Err(m), example, "the status"),
            Refusal::TimedOut => {}
            Refusal::Accepted => {
                let identity = sender.check.endpoint.signed_over(&payload);
                pending.push((
                    p,
                    Example {
                        shrinkable: false,
                        ..example
                    },
                    identity,
                ));
            }
        }
    }
    let _ = settle(server).await;
    let new: Vec<String> = requests(server)
        .await
        .into_iter()
        .skip(valid_effects)
        .collect();
    let mut explained = vec![false; new.len()];
    let mut verdicts = Vec::new();
    for (p, example, identity) in pending {
        let encoded = super::percent_encode(&identity);
        let hits: Vec<usize> = (0..new.len())
            .filter(|i| {
                !identity.is_empty() && (new[*i].contains(&identity) || new[*i].contains(&encoded))
            })
            .collect();
        for i in &hits {
            explained[*i] = true;
        }
        verdicts.push((p, example, hits.first().map(|i| new[*i].clone())));
    }
    let unexplained: Vec<&String> = new
        .iter()
        .zip(&explained)
        .filter(|(_, e)| !**e)
        .map(|(r, _)| r)
        .collect();
    for (p, example, hit) in verdicts {
        let verdict = if let Some(req) = hit {
            Err(format!("answered 2xx and then called the API: {req}"))
        } else if let Some(req) = unexplained.first() {
            Err(format!(
                "answered 2xx; the API mock then got {} request(s) while only refused deliveries were sent, e.g. {req}",
                unexplained.len()
            ))
        } else if valid_effects == 0 {
            Err("answered 2xx, and the receiver made no API request for valid deliveries either, so the absence of side effects proves nothing (inconclusive)".to_owned())
        } else {
            Ok(())
        };
        tally.record(
            p,
            verdict,
            example,
            "side effects: requests to the API mock (--api-mock)",
        );
    }
    sent
}

/// `METHOD path?query` of every request the API mock has received.
async fn requests(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let q = r.url.query().map(|q| format!("?{q}")).unwrap_or_default();
            format!("{} {}{q}", r.method, r.url.path())
        })
        .collect()
}

/// Waits until the API mock has been quiet for 250 ms (at most 3 s); returns its request count.
async fn settle(server: &MockServer) -> usize {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut last = requests(server).await.len();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = requests(server).await.len();
        if now == last || Instant::now() >= deadline {
            return now;
        }
        last = now;
    }
}

/// Whether `payload` sent as `probe` still fails `p`.
async fn still_fails(
    sender: &mut Sender<'_>,
    p: Property,
    probe: &Probe,
    payload: &Value,
) -> Option<bool> {
    let limit = sender.check.time_limit;
    let first = sender.send(probe, payload).await;
    if first == Answer::TimedOut {
        return None;
    }
    let fails = match p {
        Property::RetrySameAnswer => {
            let second = sender.send(probe, payload).await;
            matches!(
                properties::judge_retry(&first, &second, limit),
                Some(Err(_))
            )
        }
        Property::MalformedBodyRefused => {
            matches!(properties::judge_malformed(&first, limit), Some(Err(_)))
        }
        p if p.is_refusal() => {
            !matches!(properties::judge_refusal(&first, limit), Refusal::Refused)
        }
        p => properties::judge_valid(&sender.check.endpoint, &first, limit)
            .into_iter()
            .any(|(q, v)| q == p && v.is_err()),
    };
    Some(fails)
}

/// Shrinks the first failing example of each property. Returns the number of requests sent.
async fn shrink_failures(sender: &mut Sender<'_>, tally: &mut Tally) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    let required = sender.check.endpoint.required_fields();
    let before = sender.timeouts;
    let mut tries_total = 0;
    for r in tally.results.values_mut() {
        let Some(example) = r.example.clone() else {
            continue;
        };
        if r.property == Property::WithinTimeLimit || !example.shrinkable {
            continue;
        }
        let mut current = example.payload.clone();
        let base_id = sender.check.endpoint.signed_over(&current);
        let mut tries = 0;
        let mut steps = 0;
        'outer: loop {
            for c in shrink::candidates(&current, required) {
                if tries >= sender.check.shrink_budget
                    || Instant::now() >= deadline
                    || sender.timeouts > before
                {
                    break 'outer;
                }
                tries += 1;
                // A retry check needs an id the receiver has not seen yet (it may deduplicate).
                let c = if r.property == Property::RetrySameAnswer {
                    sender
                        .check
                        .endpoint
                        .with_identity(&c, &format!("{base_id}-r{tries}"))
                } else {
                    c
                };
                if still_fails(sender, r.property, &example.probe, &c).await == Some(true) {
                    current = c;
                    steps += 1;
                    continue 'outer;
                }
            }
            break;
        }
        tries_total += tries;
        let (delivery, signature) = sender.request(&example.probe, &current);
        r.shrunk = Some(Shrunk {
            payload: current,
            steps,
            tries,
            delivery,
            signature,
        });
    }
    tries_total
}
