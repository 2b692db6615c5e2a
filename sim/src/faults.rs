//! Faults on demand: latency, 5xx answers, 429 bursts, dropped connections, broken bodies,
//! answers lost after the request ran.
//!
//! Every decision comes from one seeded generator drawn in request order, so a sequence of
//! requests meets the same faults on every run with the same seed.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::log::Api;
use crate::rng::SplitMix64;

/// What goes wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The answer comes this much later (real time).
    Latency(Duration),
    /// An HTML error page with this 5xx status, as a proxy in front of Buffer sends.
    ServerError(u16),
    /// This request and the next `n - 1` matching ones are rate limited (429, in the API's
    /// own shape).
    RateLimitBurst(u32),
    /// The connection is closed without an answer, before the request is handled.
    Drop,
    /// The request is handled (a post may be created) and then the connection is closed
    /// without an answer: the case where a blind retry posts twice.
    LoseResponse,
    /// The real answer, cut in half (the status and headers are kept).
    Truncate,
    /// A `200 OK` HTML page instead of the answer, as a captive portal sends.
    Html,
    /// The GraphQL request is handled (a mutation runs and may create a post) and then its
    /// answer is a non-null field error, as when a field of `createPost`'s payload fails after
    /// the post was made: `"Cannot return null for non-nullable field …"` with a `path` that
    /// starts at the alias, code `INTERNAL_SERVER_ERROR`. Classic requests are left alone.
    NullField(NullScope),
}

/// How much of a GraphQL answer a [`Fault::NullField`] loses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NullScope {
    /// `data` is `null`: every alias of the request is lost, as when the failing field's null
    /// reaches the root; the error's path starts at the first alias.
    Data,
    /// Only the root field at this position (0 is the first in the document; past the last,
    /// the last) is `null`; the other aliases keep their answers.
    Alias(usize),
}

impl Fault {
    /// A short name for the request log.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Latency(_) => "latency",
            Fault::ServerError(_) => "server_error",
            Fault::RateLimitBurst(_) => "rate_limit",
            Fault::Drop => "drop",
            Fault::LoseResponse => "lose_response",
            Fault::Truncate => "truncate",
            Fault::Html => "html",
            Fault::NullField(_) => "null_field",
        }
    }
}

/// Which requests a rule applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every request.
    All,
    /// Every request to one API.
    Api(Api),
    /// REST requests whose path starts with this (e.g. `/1/updates/create.json`), or GraphQL
    /// requests whose operation name or a root field equals it (e.g. `createPost`).
    Route(String),
}

/// One fault, when it applies and how often.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRule {
    /// What goes wrong.
    pub fault: Fault,
    /// Which requests.
    pub target: Target,
    /// The share of matching requests hit, from 0 to 1.
    pub share: f64,
    /// Stop after this many hits (`None`: never stop).
    pub times: Option<u32>,
}

impl FaultRule {
    /// `fault` on every request.
    pub fn new(fault: Fault) -> Self {
        Self {
            fault,
            target: Target::All,
            share: 1.0,
            times: None,
        }
    }

    /// Only requests to `api`.
    pub fn api(mut self, api: Api) -> Self {
        self.target = Target::Api(api);
        self
    }

    /// Only one route (see [`Target::Route`]).
    pub fn route(mut self, route: &str) -> Self {
        self.target = Target::Route(route.to_owned());
        self
    }

    /// Hit this share of matching requests (0 to 1).
    pub fn share(mut self, share: f64) -> Self {
        self.share = share.clamp(0.0, 1.0);
        self
    }

    /// Hit at most `n` requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }
}

/// A set of fault rules and the seed that decides which requests they hit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Seed of the generator.
    pub seed: u64,
    /// Rules, checked in order; latencies add up, the first other hit wins.
    pub rules: Vec<FaultRule>,
}

impl Faults {
    /// No rules yet, decisions seeded by `seed`.
    pub fn seeded(seed: u64) -> Self {
        Self {
            seed,
            rules: Vec::new(),
        }
    }

    /// Adds a rule.
    pub fn rule(mut self, rule: FaultRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Adds `latency` to every request.
    pub fn latency(self, latency: Duration) -> Self {
        self.rule(FaultRule::new(Fault::Latency(latency)))
    }

    /// Answers `share` of requests with 503.
    pub fn server_errors(self, share: f64) -> Self {
        self.rule(FaultRule::new(Fault::ServerError(503)).share(share))
    }

    /// Starts a burst of `length` 429s on `share` of requests.
    pub fn rate_limit_bursts(self, share: f64, length: u32) -> Self {
        self.rule(FaultRule::new(Fault::RateLimitBurst(length)).share(share))
    }

    /// Handles `share` of requests but drops the connection instead of answering.
    pub fn lost_responses(self, share: f64) -> Self {
        self.rule(FaultRule::new(Fault::LoseResponse).share(share))
    }

    /// Drops the connection on `share` of requests.
    pub fn dropped_connections(self, share: f64) -> Self {
        self.rule(FaultRule::new(Fault::Drop).share(share))
    }

    /// Cuts `share` of bodies in half.
    pub fn truncated_bodies(self, share: f64) -> Self {
        self.rule(FaultRule::new(Fault::Truncate).share(share))
    }

    /// Replaces `share` of answers with an HTML page.
    pub fn html_bodies(self, share: f64) -> Self {
        self.rule(FaultRule::new(Fault::Html).share(share))
    }

    /// Handles `share` of GraphQL requests, then answers `data: null` with a non-null field
    /// error (see [`Fault::NullField`]).
    pub fn null_answers(self, share: f64) -> Self {
        self.rule(FaultRule::new(Fault::NullField(NullScope::Data)).share(share))
    }
}

/// What the server should do to one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Decision {
    pub(crate) latency: Duration,
    pub(crate) fault: Option<Fault>,
}

/// The live fault state: rules, their remaining hits, open bursts and the generator.
#[derive(Clone, Debug, Default)]
pub(crate) struct FaultState {
    inner: Arc<Mutex<Live>>,
}

#[derive(Debug, Default)]
struct Live {
    rules: Vec<(FaultRule, Option<u32>)>,
    bursts: Vec<(Target, u32)>,
    rng: Option<SplitMix64>,
}

impl FaultState {
    pub(crate) fn set(&self, faults: Faults) {
        let mut live = self.lock();
        live.rng = Some(SplitMix64::new(faults.seed));
        live.rules = faults
            .rules
            .into_iter()
            .map(|r| {
                let left = r.times;
                (r, left)
            })
            .collect();
        live.bursts.clear();
    }

    /// Decides the fate of one request. `routes` are the names it answers to (path, operation
    /// name, root fields).
    pub(crate) fn decide(&self, api: Api, routes: &[String]) -> Decision {
        let mut live = self.lock();
        let Live { rules, bursts, rng } = &mut *live;
        let mut decision = Decision::default();
        let matches = |target: &Target| match target {
            Target::All => true,
            Target::Api(a) => *a == api,
            Target::Route(route) => routes.iter().any(|r| {
                if api == Api::Rest {
                    r.starts_with(route.as_str())
                } else {
                    r == route
                }
            }),
        };
        if let Some((_, left)) = bursts.iter_mut().find(|(t, left)| *left > 0 && matches(t)) {
            *left -= 1;
            decision.fault = Some(Fault::RateLimitBurst(0));
        }
        bursts.retain(|(_, left)| *left > 0);
        let Some(rng) = rng.as_mut() else {
            return decision;
        };
        for (rule, left) in rules.iter_mut() {
            let graphql_only = matches!(rule.fault, Fault::NullField(_));
            if !matches(&rule.target) || *left == Some(0) || (graphql_only && api != Api::GraphQl) {
                continue;
            }
            let draw = rng.next_f64();
            if draw >= rule.share {
                continue;
            }
            match rule.fault {
                Fault::Latency(by) => decision.latency += by,
                _ if decision.fault.is_some() => continue,
                Fault::RateLimitBurst(length) => {
                    decision.fault = Some(rule.fault);
                    if length > 1 {
                        bursts.push((rule.target.clone(), length - 1));
                    }
                }
                other => decision.fault = Some(other),
            }
            if let Some(n) = left.as_mut() {
                *n -= 1;
            }
        }
        decision
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Live> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
