//! The router: each operation goes where it is routed, and falls back to another backend only
//! when the chosen one lacks the operation.

use async_trait::async_trait;
use buffer_bridge::model::{Channel, NewPost, PostList, PostQuery, Schedule, Service};
use buffer_bridge::router::Router;
use buffer_bridge::{
    Backend, BackendExt, BackendKind, Capabilities, Error, ErrorKind, Operation, Request, Response,
    Result,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const CHANNEL: &str = "4eb854340acb04e870000010";

/// How a fake backend fails, when it does.
#[derive(Clone, Copy, PartialEq)]
enum Failure {
    None,
    /// Claims the operation in its capabilities, then refuses it at call time.
    LateUnsupported,
    NotFound,
    Timeout,
}

/// A backend that names itself in its answers and records what it was asked.
struct Fake {
    kind: BackendKind,
    failure: Failure,
    calls: AtomicUsize,
    seen: Mutex<Vec<Operation>>,
}

impl Fake {
    fn new(kind: BackendKind) -> Arc<Self> {
        Self::failing(kind, Failure::None)
    }

    fn failing(kind: BackendKind, failure: Failure) -> Arc<Self> {
        Arc::new(Self {
            kind,
            failure,
            calls: AtomicUsize::new(0),
            seen: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Backend for Fake {
    fn kind(&self) -> BackendKind {
        self.kind
    }

    async fn execute(&self, request: Request) -> Result<Response> {
        self.capabilities().check(request.operation())?;
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.seen.lock().unwrap().push(request.operation());
        match self.failure {
            Failure::None => {}
            Failure::LateUnsupported => {
                return Err(Error::unsupported(
                    request.operation(),
                    self.kind,
                    "refused at call time",
                ));
            }
            Failure::NotFound => return Err(Error::from_legacy_code(1010, None)),
            Failure::Timeout => return Err(Error::timeout(None)),
        }
        // Every answer names the backend that gave it.
        let marker = Channel::new(CHANNEL, Service::Twitter, self.kind.as_str());
        Ok(match request {
            Request::Channels => Response::Channels(vec![marker]),
            Request::Channel { .. } => Response::Channel(marker),
            Request::UpdateSchedules { .. } => Response::SchedulesUpdated,
            Request::CreatePost { .. } => {
                Response::Created(buffer_bridge::model::CreateOutcome::new(Vec::new()))
            }
            Request::Interactions { .. } | Request::Posts { .. } => {
                Response::Posts(buffer_bridge::model::Page::new(Vec::new(), None, None))
            }
            _ => Response::Deleted,
        })
    }
}

async fn answered_by(backend: &impl Backend) -> String {
    backend.channels().await.unwrap()[0].name.clone()
}

#[tokio::test]
async fn operations_go_where_they_are_routed() {
    let rest = Fake::new(BackendKind::ClassicRest);
    let graphql = Fake::new(BackendKind::GraphQl);
    let router = Router::new(rest.clone()).route(Operation::Channels, graphql.clone());

    assert_eq!(answered_by(&router).await, "graphql");
    router.channel(&CHANNEL.into()).await.unwrap();
    assert_eq!(*rest.seen.lock().unwrap(), [Operation::Channel]);
    assert_eq!(*graphql.seen.lock().unwrap(), [Operation::Channels]);
}

#[tokio::test]
async fn reads_move_first_and_a_single_route_wins_over_its_group() {
    let rest = Fake::new(BackendKind::ClassicRest);
    let graphql = Fake::new(BackendKind::GraphQl);
    let router = Router::new(rest.clone())
        .route_reads_to(graphql.clone())
        .route(Operation::Channels, rest.clone())
        .route(Operation::CreatePost, graphql.clone());

    assert_eq!(
        router.backend_for(Operation::Posts).kind(),
        BackendKind::GraphQl
    );
    assert_eq!(
        router.backend_for(Operation::Channels).kind(),
        BackendKind::ClassicRest
    );
    assert_eq!(
        router.backend_for(Operation::DeletePost).kind(),
        BackendKind::ClassicRest
    );
    assert_eq!(
        router.backend_for(Operation::CreatePost).kind(),
        BackendKind::GraphQl
    );
    assert_eq!(answered_by(&router).await, "rest");

    let writes = Router::new(rest.clone()).route_writes_to(graphql.clone());
    assert_eq!(
        writes.backend_for(Operation::CreatePost).kind(),
        BackendKind::GraphQl
    );
    assert_eq!(
        writes.backend_for(Operation::Posts).kind(),
        BackendKind::ClassicRest
    );
}

#[tokio::test]
async fn an_operation_the_chosen_backend_lacks_falls_back_without_reaching_it() {
    let rest = Fake::new(BackendKind::ClassicRest);
    let graphql = Fake::new(BackendKind::GraphQl);
    let router = Router::new(rest.clone()).route_writes_to(graphql.clone());

    // GraphQL cannot change schedules: the classic backend does it, GraphQL sees nothing.
    let schedules = [Schedule::new(buffer_bridge::model::Day::Mon, ["12:45"])];
    router
        .update_schedules(&CHANNEL.into(), &schedules)
        .await
        .unwrap();
    assert_eq!(graphql.calls(), 0);
    assert_eq!(*rest.seen.lock().unwrap(), [Operation::UpdateSchedules]);
}

#[tokio::test]
async fn an_unsupported_answer_at_call_time_falls_back_too() {
    let rest = Fake::new(BackendKind::ClassicRest);
    let graphql = Fake::failing(BackendKind::GraphQl, Failure::LateUnsupported);
    let router = Router::new(rest.clone()).route_reads_to(graphql.clone());
    assert_eq!(answered_by(&router).await, "rest");
    assert_eq!(graphql.calls(), 1);
    assert_eq!(rest.calls(), 1);
}

#[tokio::test]
async fn other_errors_never_fall_back() {
    for failure in [Failure::NotFound, Failure::Timeout] {
        let rest = Fake::new(BackendKind::ClassicRest);
        let graphql = Fake::failing(BackendKind::GraphQl, failure);
        let router = Router::new(rest.clone())
            .route_reads_to(graphql.clone())
            .route_writes_to(graphql.clone());

        let read = router
            .posts(&PostQuery::new(CHANNEL, PostList::Queue))
            .await
            .unwrap_err();
        // A write that timed out may have happened: it must not be sent again elsewhere.
        let write = router
            .create_post(&NewPost::new("This is an example update").channel(CHANNEL))
            .await
            .unwrap_err();
        let expected = match failure {
            Failure::NotFound => ErrorKind::NotFound,
            _ => ErrorKind::Timeout,
        };
        assert_eq!(read.kind(), expected);
        assert_eq!(write.kind(), expected);
        assert_eq!(rest.calls(), 0, "fell back on {expected:?}");
    }
}

#[tokio::test]
async fn with_no_backend_that_has_it_the_chosen_backends_hint_is_returned() {
    let graphql = Fake::new(BackendKind::GraphQl);
    let router = Router::new(graphql.clone());
    let error = router.link_shares("http://google.com").await.unwrap_err();
    match error {
        Error::Unsupported {
            operation, backend, ..
        } => {
            assert_eq!(operation, Operation::LinkShares);
            assert_eq!(backend, BackendKind::GraphQl);
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[test]
fn capabilities_are_the_union_and_kind_is_the_default() {
    let rest = Fake::new(BackendKind::ClassicRest);
    let graphql = Fake::new(BackendKind::GraphQl);
    let router = Router::new(rest.clone()).route(Operation::Ideas, graphql.clone());
    assert_eq!(router.kind(), BackendKind::ClassicRest);
    let capabilities = router.capabilities();
    for operation in Operation::ALL {
        assert!(capabilities.supports(*operation), "{operation}");
    }
    let rest_only = Router::new(rest.clone()).capabilities();
    assert!(!rest_only.supports(Operation::Ideas));
    assert_eq!(
        Capabilities::of(BackendKind::GraphQl).union(Capabilities::of(BackendKind::GraphQl)),
        Capabilities::of(BackendKind::GraphQl)
    );
}

#[test]
fn capabilities_narrow_to_what_a_layer_grants_and_say_so() {
    let graphql = Capabilities::of(BackendKind::GraphQl);
    let read_only = graphql.only(Operation::ALL.iter().copied().filter(|op| !op.writes()));
    assert!(read_only.supports(Operation::Posts));
    assert!(!read_only.supports(Operation::CreatePost));
    // Narrowing never grants what the API lacks.
    assert!(!read_only.supports(Operation::LinkShares));
    let no_deletes = graphql.without(Operation::DeletePost);
    assert!(no_deletes.supports(Operation::EditPost));
    assert!(!no_deletes.supports(Operation::DeletePost));
    assert_eq!(
        no_deletes.operations().count() + 1,
        graphql.operations().count()
    );

    // The refusal says which it is: narrowed away, or missing from the API.
    let narrowed = read_only.check(Operation::CreatePost).unwrap_err();
    assert!(narrowed.to_string().contains("narrowed"), "{narrowed}");
    // Narrowed out of a union, the message names the API that has it.
    let both = Capabilities::of(BackendKind::ClassicRest).union(graphql);
    let refused = both
        .without(Operation::Ideas)
        .check(Operation::Ideas)
        .unwrap_err();
    assert!(
        refused.to_string().contains("graphql has ideas"),
        "{refused}"
    );
    let missing = read_only.check(Operation::LinkShares).unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("GraphQL has no link share counts"),
        "{missing}"
    );
}
