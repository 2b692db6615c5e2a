//! Per-agent access, attacked on the simulator through both backends. Every refusal is checked
//! against the simulator's request log (nothing that was refused reached it) and store (nothing
//! changed), and every call against the audit log (one record each).

#[path = "common/sim.rs"]
mod common;

use buffer_bridge::access::{
    Access, Approver, Decision, MemoryAudit, PendingWrite, Policy, key_digest,
};
use buffer_bridge::backend::Operation;
use buffer_bridge::model::{NewPost, PostList, PostQuery};
use buffer_bridge::{Backend, BackendExt, BackendKind, ErrorKind};
use buffer_sim::{Service, Simulator};
use std::sync::Arc;
use std::time::Duration;

/// Reads everything; writes posts on the LinkedIn page only; nothing else.
const POLICY: &str = r#"
[agents.reader]
[[agents.reader.grant]]
channels = ["*"]
families = ["posts", "schedules"]
access = "read"

[agents.linkedin-writer]
[[agents.linkedin-writer.grant]]
channels = ["*"]
families = ["posts"]
access = "read"
[[agents.linkedin-writer.grant]]
channels = ["linkedin:Buffer Sim"]
families = ["posts"]
access = "write"

[agents.gated]
[[agents.gated.grant]]
channels = ["*"]
families = ["posts"]
access = "write"
approval = true

[agents.nobody]
"#;

/// Where a create and a delete go on each API, as the simulator's request log names them.
fn create_route(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::GraphQl => "createPost",
        _ => "/1/updates/create.json",
    }
}

fn channel_id(sim: &Simulator, service: Service) -> String {
    sim.demo()
        .channel(service)
        .expect("a demo channel")
        .id
        .clone()
}

async fn agent<'a>(backend: &'a dyn Backend, name: &str) -> (Access<&'a dyn Backend>, MemoryAudit) {
    let policy = Policy::from_toml_str(POLICY).unwrap();
    let (agents, problems) = policy.resolve(&backend.channels().await.unwrap());
    assert!(problems.is_empty(), "{problems:?}");
    let audit = MemoryAudit::new();
    let access = Access::new(backend, agents.get(name).unwrap()).audit(Arc::new(audit.clone()));
    (access, audit)
}

#[tokio::test]
async fn a_read_only_agent_writes_nothing_and_every_call_is_recorded_once() {
    let both = common::Both::start().await;
    for (kind, backend) in both.each() {
        let (reader, audit) = agent(backend, "reader").await;
        let linkedin = channel_id(&both.sim, Service::Linkedin);
        let caps = reader.capabilities();
        assert!(caps.supports(Operation::Posts), "{kind}");
        assert!(
            !caps.operations().any(|op| op.writes()),
            "{kind}: a reader is offered no write"
        );

        let queue = reader
            .posts(&PostQuery::new(linkedin.as_str(), PostList::Queue))
            .await
            .unwrap();
        let victim = queue
            .items
            .first()
            .expect("the demo queue has posts")
            .clone();
        both.sim.clear_requests();
        let refused = reader
            .create_post(&NewPost::new("from a reader").channel(linkedin.as_str()))
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Forbidden, "{kind}");
        let refused = reader.delete_post(&victim.id).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Forbidden, "{kind}");
        assert!(
            both.sim.requests().is_empty(),
            "{kind}: refused calls reached Buffer: {:?}",
            both.sim.requests()
        );
        assert!(both.sim.store().post(victim.id.as_str()).is_some());
        assert_eq!(
            both.sim.store().count_with_text(&linkedin, "from a reader"),
            0
        );

        let records = audit.records();
        assert_eq!(
            records.len(),
            3,
            "{kind}: one record per call: {records:#?}"
        );
        assert!(records[0].requests >= 1, "{kind}: a read is counted");
        assert!(
            records[0].sentence.contains("— allowed"),
            "{kind}: {}",
            records[0].sentence
        );
        assert_eq!((records[1].requests, records[2].requests), (0, 0));
        assert!(
            matches!(&records[1].decision, Decision::Denied { why } if why.contains("read-only")),
            "{kind}: {:?}",
            records[1]
        );
        assert!(
            records[1]
                .sentence
                .starts_with("reader tried to queue a post on LinkedIn 'Buffer Sim'"),
            "{kind}: {}",
            records[1].sentence
        );
        assert!(
            records[2]
                .sentence
                .starts_with("reader tried to delete a post — denied"),
            "{kind}: {}",
            records[2].sentence
        );
    }
}

#[tokio::test]
async fn a_writer_on_one_channel_creates_there_and_nowhere_else() {
    let both = common::Both::start().await;
    for (kind, backend) in both.each() {
        let (writer, audit) = agent(backend, "linkedin-writer").await;
        let linkedin = channel_id(&both.sim, Service::Linkedin);
        let twitter = channel_id(&both.sim, Service::Twitter);
        let text = format!("linkedin only ({kind})");

        let created = writer
            .create_post(&NewPost::new(&text).channel(linkedin.as_str()))
            .await
            .unwrap();
        assert_eq!(created.posts().count(), 1, "{kind}");
        assert_eq!(both.sim.store().count_with_text(&linkedin, &text), 1);

        both.sim.clear_requests();
        let refused = writer
            .create_post(
                &NewPost::new(&text)
                    .channel(linkedin.as_str())
                    .channel(twitter.as_str()),
            )
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Forbidden, "{kind}");
        assert!(
            both.sim.requests_to(create_route(kind)) == 0,
            "{kind}: a create with one forbidden channel sent nothing"
        );
        assert_eq!(both.sim.store().count_with_text(&twitter, &text), 0);
        assert_eq!(both.sim.store().count_with_text(&linkedin, &text), 1);

        // Deleting needs `full`, which it has nowhere: refused before even a lookup.
        let mine = created.posts().next().unwrap().id.clone();
        both.sim.clear_requests();
        let refused = writer.delete_post(&mine).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Forbidden, "{kind}");
        assert!(both.sim.requests().is_empty(), "{kind}");
        assert!(both.sim.store().post(mine.as_str()).is_some());

        let records = audit.records();
        assert_eq!(records.len(), 3, "{kind}");
        assert!(
            records[0]
                .sentence
                .contains("queued a post on LinkedIn 'Buffer Sim' — allowed, created"),
            "{kind}: {}",
            records[0].sentence
        );
        assert!(
            records[1]
                .sentence
                .contains("— denied: read-only for posts on X '"),
            "{kind}: {}",
            records[1].sentence
        );
        assert!(
            records[0].key.as_deref().is_some_and(|k| !k.is_empty()),
            "{kind}: a write's record carries its idempotency key"
        );
        assert!(records[2].sentence.contains("tried to delete a post"));
    }
}

#[tokio::test]
async fn a_call_by_post_id_is_decided_by_the_posts_channel_and_only_the_lookup_is_sent() {
    let both = common::Both::start().await;
    let policy = Policy::from_toml_str(
        r#"
        [[agents.editor.grant]]
        channels = ["linkedin:Buffer Sim"]
        families = ["posts"]
        access = "full"
        "#,
    )
    .unwrap();
    for (kind, backend) in both.each() {
        let (agents, _) = policy.resolve(&backend.channels().await.unwrap());
        let audit = MemoryAudit::new();
        let editor =
            Access::new(backend, agents.get("editor").unwrap()).audit(Arc::new(audit.clone()));
        let twitter = channel_id(&both.sim, Service::Twitter);
        let linkedin = channel_id(&both.sim, Service::Linkedin);
        let theirs = backend
            .posts(&PostQuery::new(twitter.as_str(), PostList::Queue))
            .await
            .unwrap()
            .items[0]
            .clone();
        both.sim.clear_requests();
        let refused = editor.delete_post(&theirs.id).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Forbidden, "{kind}");
        let sent = both.sim.requests();
        assert_eq!(sent.len(), 1, "{kind}: the lookup alone: {sent:?}");
        assert!(
            sent[0].method == "GET" || sent[0].root_fields == ["post"],
            "{kind}: {sent:?}"
        );
        assert!(both.sim.store().post(theirs.id.as_str()).is_some());
        let record = audit.records().pop().unwrap();
        assert_eq!(record.channels, vec![twitter.as_str().into()], "{kind}");
        assert_eq!(record.requests, 1);

        let mine = backend
            .posts(&PostQuery::new(linkedin.as_str(), PostList::Queue))
            .await
            .unwrap()
            .items[0]
            .clone();
        editor.delete_post(&mine.id).await.unwrap();
        assert!(both.sim.store().post(mine.id.as_str()).is_none(), "{kind}");
        let record = audit.records().pop().unwrap();
        assert!(
            record.sentence.starts_with(&format!(
                "editor deleted post {} on LinkedIn 'Buffer Sim' — allowed",
                mine.id
            )),
            "{kind}: {}",
            record.sentence
        );
    }
}

#[tokio::test]
async fn an_agent_sees_only_its_channels() {
    let both = common::Both::start().await;
    let policy = Policy::from_toml_str(
        r#"
        [[agents.one.grant]]
        channels = ["linkedin:buffer sim"]
        families = ["posts"]
        access = "read"
        "#,
    )
    .unwrap();
    for (kind, backend) in both.each() {
        let (agents, problems) = policy.resolve(&backend.channels().await.unwrap());
        assert!(problems.is_empty(), "{kind}: {problems:?}");
        let one = Access::new(backend, agents.get("one").unwrap());
        let channels = one.channels().await.unwrap();
        assert_eq!(channels.len(), 1, "{kind}: {channels:?}");
        assert_eq!(
            channels[0].id.as_str(),
            channel_id(&both.sim, Service::Linkedin)
        );
        let twitter = channel_id(&both.sim, Service::Twitter);
        let refused = one.channel(&twitter.as_str().into()).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Forbidden, "{kind}");
    }
}

#[tokio::test]
async fn an_agent_with_no_grant_is_refused_everything_without_a_request() {
    let both = common::Both::start().await;
    for (kind, backend) in both.each() {
        let (nobody, audit) = agent(backend, "nobody").await;
        assert_eq!(nobody.capabilities().operations().count(), 0, "{kind}");
        both.sim.clear_requests();
        for error in [
            nobody.account().await.unwrap_err(),
            nobody.channels().await.unwrap_err(),
            nobody
                .post(&"6b0e63bb438bebec1400000a".into())
                .await
                .unwrap_err(),
        ] {
            assert_eq!(error.kind(), ErrorKind::Forbidden, "{kind}: {error}");
        }
        assert!(both.sim.requests().is_empty(), "{kind}");
        assert_eq!(audit.records().len(), 3);
    }
}

#[derive(Debug)]
struct Says(Option<bool>);

#[async_trait::async_trait]
impl Approver for Says {
    async fn approve(&self, _: &PendingWrite) -> bool {
        match self.0 {
            Some(answer) => answer,
            None => std::future::pending().await,
        }
    }
}

#[tokio::test]
async fn writes_under_approval_wait_for_a_yes_and_a_silent_approver_is_a_bounded_no() {
    let both = common::Both::start().await;
    let backend = both.backend(BackendKind::GraphQl);
    let linkedin = channel_id(&both.sim, Service::Linkedin);
    for (approver, created) in [(None, false), (Some(false), false), (Some(true), true)] {
        let (gated, audit) = agent(backend, "gated").await;
        let gated = match approver {
            Some(answer) => gated.approver(Arc::new(Says(Some(answer)))),
            None => gated
                .approver(Arc::new(Says(None)))
                .approval_timeout(Duration::from_millis(50)),
        };
        let text = format!("gated {approver:?}");
        let result = gated
            .create_post(&NewPost::new(&text).channel(linkedin.as_str()))
            .await;
        assert_eq!(result.is_ok(), created, "{approver:?}: {result:?}");
        assert_eq!(
            both.sim.store().count_with_text(&linkedin, &text),
            usize::from(created)
        );
        let record = audit.records().pop().unwrap();
        match created {
            true => assert_eq!(record.decision, Decision::Approved),
            false => assert!(matches!(record.decision, Decision::Denied { .. })),
        }
    }
    // Reads under the same grant need no approval.
    let (gated, _) = agent(backend, "gated").await;
    gated
        .posts(&PostQuery::new(linkedin.as_str(), PostList::Queue))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_policy_that_names_what_does_not_exist_says_so() {
    let both = common::Both::start().await;
    let channels = both.rest.channels().await.unwrap();
    let policy = Policy::from_toml_str(&format!(
        r#"
        [agents.typo]
        key_sha256 = "{}"
        [[agents.typo.grant]]
        channels = ["linkedin:Bufer Sim", "5f0000000000000000000000"]
        families = ["posts"]
        access = "write"
        [[agents.typo.grant]]
        families = ["posts"]
        access = "read"
        "#,
        key_digest("agent key")
    ))
    .unwrap();
    let (agents, problems) = policy.resolve(&channels);
    let said: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(said.len(), 3, "{said:#?}");
    assert!(said[0].contains("linkedin:Bufer Sim matches no channel"));
    assert!(said[2].contains("grant 2: names no channels"));
    assert_eq!(agents.by_key("agent key").unwrap().name(), "typo");
    assert!(agents.by_key("another key").is_none());

    let error = Policy::from_toml_str("[agents.a]\n[[agents.a.grant]]\nfamilies = [\"post\"]\n")
        .unwrap_err()
        .to_string();
    assert!(error.contains("line 3"), "{error}");
    let error = Policy::from_toml_str("[agents.a]\nkey = \"plain\"\n")
        .unwrap_err()
        .to_string();
    assert!(error.contains("line 2") && error.contains("key"), "{error}");
}

#[tokio::test]
async fn a_write_parked_in_the_approval_queue_waits_for_a_person_in_another_process() {
    use buffer_bridge::access::ApprovalQueue;
    let both = common::Both::start().await;
    let backend = both.backend(BackendKind::ClassicRest);
    let linkedin = channel_id(&both.sim, Service::Linkedin);
    let dir = std::env::temp_dir().join(format!("bb-approvals-{}", std::process::id()));
    let queue = ApprovalQueue::open(&dir).unwrap();
    for approve in [true, false] {
        let (gated, audit) = agent(backend, "gated").await;
        let gated = gated.approver(Arc::new(queue.clone()));
        let text = format!("parked, approved: {approve}");
        let post = NewPost::new(&text).channel(linkedin.as_str());
        let person = async {
            // The person sees the write in the queue (as `buffer-bridge approvals` lists it)
            // while nothing has been sent, and answers.
            let parked = loop {
                if let Some(parked) = queue.pending().unwrap().pop() {
                    break parked;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            assert!(
                parked.sentence.contains("queue a post")
                    || parked.sentence.contains("queued a post"),
                "{parked:?}"
            );
            assert_eq!(both.sim.store().count_with_text(&linkedin, &text), 0);
            match approve {
                true => queue.approve(&parked.id).unwrap(),
                false => queue.deny(&parked.id).unwrap(),
            }
        };
        let (result, ()) = tokio::join!(gated.create_post(&post), person);
        assert_eq!(result.is_ok(), approve, "{result:?}");
        assert_eq!(
            both.sim.store().count_with_text(&linkedin, &text),
            usize::from(approve)
        );
        assert!(
            queue.pending().unwrap().is_empty(),
            "answered writes leave the queue"
        );
        assert_eq!(audit.records().len(), 1);
    }
    assert!(queue.approve("../../etc/passwd").is_err());
    std::fs::remove_dir_all(&dir).ok();
}
