//! Adversarial tests of the access layer: deny by default on every path, one audit record per
//! call whatever happens to the call, no secret in any record, approvals that cannot be
//! stepped around, and policies that say what they cannot do. Behaviour is asserted on the
//! simulator's store and request log, not on what the layer reports about itself.

use buffer_bridge::access::{Access, Agent, Approver, MemoryAudit, PendingWrite, Policy};
use buffer_bridge::backend::{Backend, BackendKind, Request, Response};
use buffer_bridge::model::{ChannelId, NewPost, PostId};
use buffer_bridge::rest::ClassicRest;
use buffer_bridge::retry::Retrying;
use buffer_bridge::{BackendExt, ErrorKind};
use buffer_sim::Simulator;
use std::sync::Arc;
use std::time::Duration;

const TOKEN: &str = "classic-token-SECRET-7f3a9c";

async fn sim() -> Simulator {
    Simulator::builder().access_token(TOKEN).start().await
}

fn classic(sim: &Simulator) -> ClassicRest {
    ClassicRest::builder()
        .access_token(sim.access_token())
        .base_url(sim.rest_url())
        .build()
        .unwrap()
}

fn id_of(sim: &Simulator, service: buffer_sim::Service) -> String {
    sim.demo().channel(service).unwrap().id.clone()
}

async fn agent_of<B: Backend>(backend: &B, policy: &str, name: &str) -> Agent {
    let policy = Policy::from_toml_str(policy).unwrap();
    let (agents, problems) = policy.resolve(&backend.channels().await.unwrap());
    assert!(problems.is_empty(), "{problems:?}");
    agents.get(name).unwrap()
}

/// Writes posts on LinkedIn only (with `full`, so deleting and publishing now too), reads all.
const LINKEDIN_WRITER: &str = r#"
[[agents.bot.grant]]
channels = ["*"]
families = ["posts"]
access = "read"

[[agents.bot.grant]]
channels = ["linkedin:Buffer Sim"]
families = ["posts", "queue", "schedules"]
access = "full"
"#;

async fn linkedin_writer(sim: &Simulator) -> (Access<ClassicRest>, MemoryAudit) {
    let buffer = classic(sim);
    let agent = agent_of(&buffer, LINKEDIN_WRITER, "bot").await;
    let audit = MemoryAudit::new();
    (
        Access::new(buffer, agent).audit(Arc::new(audit.clone())),
        audit,
    )
}

fn assert_forbidden<T: std::fmt::Debug>(result: buffer_bridge::Result<T>) {
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Forbidden, "{error}");
}

#[tokio::test]
async fn a_batch_mixing_allowed_and_forbidden_channels_sends_nothing() {
    use buffer_sim::Service;
    let sim = sim().await;
    let (bot, audit) = linkedin_writer(&sim).await;
    let linkedin = id_of(&sim, Service::Linkedin);
    let twitter = id_of(&sim, Service::Twitter);
    let posts_before = sim.store().posts().len();
    sim.clear_requests();
    let batch = vec![
        NewPost::new("fine on linkedin").channel(linkedin.clone()),
        NewPost::new("sneaked onto x").channel(twitter.clone()),
    ];
    assert_forbidden(bot.create_posts(&batch).await);
    // Duplicates, and the forbidden channel hidden behind allowed ones.
    let hidden = NewPost::new("hidden").channels([
        linkedin.clone(),
        linkedin.clone(),
        twitter.clone(),
        linkedin.clone(),
    ]);
    assert_forbidden(bot.create_post(&hidden).await);
    assert_eq!(sim.requests().len(), 0);
    assert_eq!(sim.store().posts().len(), posts_before);
    let records = audit.records();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.requests == 0));
}

#[tokio::test]
async fn channel_ids_in_other_spellings_or_of_another_account_send_nothing() {
    use buffer_sim::Service;
    let sim = sim().await;
    let (bot, _) = linkedin_writer(&sim).await;
    let linkedin = id_of(&sim, Service::Linkedin);
    let twitter = id_of(&sim, Service::Twitter);
    sim.clear_requests();
    for spelling in [
        twitter.to_uppercase(),
        format!(" {twitter}"),
        format!("{twitter}\n"),
        "linkedin:Buffer Sim".to_owned(),
        "*".to_owned(),
        String::new(),
    ] {
        assert_forbidden(
            bot.create_post(&NewPost::new("spelled").channel(spelling))
                .await,
        );
    }
    // The granted id in another case is another id.
    assert_forbidden(
        bot.create_post(&NewPost::new("case").channel(linkedin.to_uppercase()))
            .await,
    );
    assert_eq!(sim.requests().len(), 0);
}

#[tokio::test]
async fn a_star_grant_does_not_reach_channels_of_another_account() {
    let sim = sim().await;
    let stranger = sim.store().add_account("x@example.invalid", "t2", "k2");
    let org = sim.store().add_organization(&stranger.id, "Other");
    let foreign = sim.store().add_channel(buffer_sim::ChannelSpec::new(
        &org.id,
        buffer_sim::Service::Twitter,
        "someone_else",
    ));
    let buffer = classic(&sim);
    let agent = agent_of(
        &buffer,
        r#"
[[agents.bot.grant]]
channels = ["*"]
families = ["posts", "queue", "schedules"]
access = "full"
"#,
        "bot",
    )
    .await;
    let bot = Access::new(buffer, agent);
    sim.clear_requests();
    let id = ChannelId::new(foreign.id.clone());
    assert_forbidden(
        bot.create_post(&NewPost::new("x").channel(id.clone()))
            .await,
    );
    assert_forbidden(bot.schedules(&id).await);
    assert_forbidden(bot.shuffle_queue(&id, None).await);
    assert_eq!(sim.requests().len(), 0);
}

#[tokio::test]
async fn calls_by_post_id_on_a_forbidden_channel_change_nothing() {
    use buffer_sim::Service;
    let sim = sim().await;
    let (bot, audit) = linkedin_writer(&sim).await;
    let twitter = id_of(&sim, Service::Twitter);
    let target = sim.store().queue(&twitter)[0].clone();
    let id = PostId::new(target.id.clone());
    sim.clear_requests();
    assert_forbidden(
        bot.edit_post(
            &id,
            &buffer_bridge::model::PostEdit::default().text("pwned"),
        )
        .await,
    );
    assert_forbidden(bot.delete_post(&id).await);
    assert_forbidden(bot.share_post(&id).await);
    assert_forbidden(bot.move_post_to_top(&id).await);
    let after = sim.store().post(&target.id).unwrap();
    assert_eq!(after.text, target.text);
    assert_eq!(after.status, target.status);
    // Only the lookups of the post's channel went out: nothing that writes.
    assert!(
        sim.requests().iter().all(|r| r.method == "GET"),
        "{:?}",
        sim.requests()
    );
    let records = audit.records();
    assert_eq!(records.len(), 4);
    for record in &records {
        assert_eq!(record.channels, vec![ChannelId::new(twitter.clone())]);
        assert!(matches!(
            record.decision,
            buffer_bridge::access::Decision::Denied { .. }
        ));
    }
}

#[tokio::test]
#[ignore = "open: a call by post id reads the post (one GET) to learn its channel before it can \
            be refused, so a refused call is not zero requests; needs a post-to-channel index \
            the layer does not have"]
async fn calls_by_post_id_on_a_forbidden_channel_send_no_request_at_all() {
    use buffer_sim::Service;
    let sim = sim().await;
    let (bot, _) = linkedin_writer(&sim).await;
    let twitter = id_of(&sim, Service::Twitter);
    let id = PostId::new(sim.store().queue(&twitter)[0].id.clone());
    sim.clear_requests();
    assert_forbidden(bot.delete_post(&id).await);
    assert_eq!(sim.requests().len(), 0);
}

#[tokio::test]
async fn queue_and_schedule_writes_on_a_forbidden_channel_send_nothing() {
    use buffer_sim::Service;
    let sim = sim().await;
    let (bot, _) = linkedin_writer(&sim).await;
    let twitter = ChannelId::new(id_of(&sim, Service::Twitter));
    let order: Vec<PostId> = sim
        .store()
        .queue(twitter.as_str())
        .iter()
        .rev()
        .map(|p| PostId::new(p.id.clone()))
        .collect();
    let before: Vec<String> = sim
        .store()
        .queue(twitter.as_str())
        .iter()
        .map(|p| p.id.clone())
        .collect();
    sim.clear_requests();
    assert_forbidden(bot.reorder_queue(&twitter, &order, None).await);
    assert_forbidden(bot.shuffle_queue(&twitter, None).await);
    assert_forbidden(bot.update_schedules(&twitter, &[]).await);
    assert_forbidden(bot.schedules(&twitter).await);
    assert_forbidden(bot.deauthorize().await);
    assert_forbidden(bot.account().await);
    assert_eq!(sim.requests().len(), 0);
    let after: Vec<String> = sim
        .store()
        .queue(twitter.as_str())
        .iter()
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(after, before);
}

#[tokio::test]
async fn ideas_need_an_ideas_grant() {
    let sim = sim().await;
    let (bot, _) = linkedin_writer(&sim).await;
    let ideas_before = sim.store().ideas().len();
    sim.clear_requests();
    let org = buffer_bridge::model::OrganizationId::new(sim.organization_id());
    assert_forbidden(
        bot.create_idea(&buffer_bridge::model::NewIdea::new(org.clone(), "idea"))
            .await,
    );
    assert_forbidden(
        bot.ideas(&org, buffer_bridge::model::PageRequest::first(10))
            .await,
    );
    assert_eq!(sim.requests().len(), 0);
    assert_eq!(sim.store().ideas().len(), ideas_before);
}

#[tokio::test]
async fn reconciling_another_channels_write_is_refused() {
    use buffer_sim::Service;
    let sim = sim().await;
    let buffer = Arc::new(Retrying::new(classic(&sim)));
    // The operator posts on X through the shared write path.
    let twitter = id_of(&sim, Service::Twitter);
    let operator_post = NewPost::new("operator's own post").channel(twitter.clone());
    buffer.create_post(&operator_post).await.unwrap();
    let agent = agent_of(&buffer, LINKEDIN_WRITER, "bot").await;
    let audit = MemoryAudit::new();
    let bot = Access::new(buffer.clone(), agent).audit(Arc::new(audit.clone()));
    sim.clear_requests();
    // The bot knows (or guesses) the key: derived keys are a function of the content.
    let refused = bot.reconcile(&operator_post.key()).await;
    assert_forbidden(refused);
    assert_eq!(sim.requests().len(), 0);
    assert_eq!(audit.records().len(), 1);
}

#[derive(Debug)]
struct Never;

#[async_trait::async_trait]
impl Approver for Never {
    async fn approve(&self, _: &PendingWrite) -> bool {
        std::future::pending().await
    }
}

#[derive(Debug, Default)]
struct No(std::sync::Mutex<Vec<PendingWrite>>);

#[async_trait::async_trait]
impl Approver for No {
    async fn approve(&self, write: &PendingWrite) -> bool {
        self.0.lock().unwrap().push(write.clone());
        false
    }
}

#[derive(Debug)]
struct Panics;

#[async_trait::async_trait]
impl Approver for Panics {
    async fn approve(&self, _: &PendingWrite) -> bool {
        panic!("the approver broke")
    }
}

/// Writes on X freely, on LinkedIn only with approval.
const APPROVALS: &str = r#"
[[agents.bot.grant]]
channels = ["*"]
families = ["posts"]
access = "read"

[[agents.bot.grant]]
channels = ["twitter:buffer_sim"]
families = ["posts"]
access = "full"

[[agents.bot.grant]]
channels = ["linkedin:Buffer Sim"]
families = ["posts"]
access = "full"
approval = true
"#;

async fn approvals(
    sim: &Simulator,
    approver: Arc<dyn Approver>,
) -> (Access<ClassicRest>, MemoryAudit) {
    let buffer = classic(sim);
    let agent = agent_of(&buffer, APPROVALS, "bot").await;
    let audit = MemoryAudit::new();
    (
        Access::new(buffer, agent)
            .audit(Arc::new(audit.clone()))
            .approver(approver)
            .approval_timeout(Duration::from_millis(200)),
        audit,
    )
}

#[tokio::test]
async fn an_approver_cannot_be_stepped_around_by_batch_or_by_id() {
    use buffer_sim::Service;
    let sim = sim().await;
    let no = Arc::new(No::default());
    let (bot, audit) = approvals(&sim, no.clone()).await;
    let linkedin = id_of(&sim, Service::Linkedin);
    let twitter = id_of(&sim, Service::Twitter);
    let target = sim.store().queue(&linkedin)[0].clone();
    let posts_before = sim.store().posts().len();
    sim.clear_requests();
    // A batch whose first post is free and whose second needs approval.
    let batch = vec![
        NewPost::new("free on x").channel(twitter.clone()),
        NewPost::new("held on linkedin").channel(linkedin.clone()),
    ];
    assert_forbidden(bot.create_posts(&batch).await);
    // One post to both channels.
    assert_forbidden(
        bot.create_post(&NewPost::new("both").channels([twitter.clone(), linkedin.clone()]))
            .await,
    );
    // By id: the free grant on X must not carry a write on a LinkedIn post.
    let id = PostId::new(target.id.clone());
    assert_forbidden(bot.delete_post(&id).await);
    assert_forbidden(bot.share_post(&id).await);
    assert_forbidden(
        bot.edit_post(
            &id,
            &buffer_bridge::model::PostEdit::default().text("changed"),
        )
        .await,
    );
    assert_eq!(no.0.lock().unwrap().len(), 5);
    assert!(sim.requests().iter().all(|r| r.method == "GET"));
    assert_eq!(sim.store().posts().len(), posts_before);
    assert_eq!(sim.store().post(&target.id).unwrap().text, target.text);
    assert_eq!(audit.records().len(), 5);
}

#[tokio::test]
async fn an_approver_that_never_answers_is_a_no_within_the_timeout() {
    use buffer_sim::Service;
    let sim = sim().await;
    let (bot, audit) = approvals(&sim, Arc::new(Never)).await;
    let linkedin = id_of(&sim, Service::Linkedin);
    sim.clear_requests();
    let waited = tokio::time::timeout(
        Duration::from_secs(30),
        bot.create_post(&NewPost::new("held").channel(linkedin.clone())),
    )
    .await
    .expect("the approval wait is bounded by the approval timeout");
    assert_forbidden(waited);
    assert_eq!(sim.requests().len(), 0);
    assert_eq!(sim.store().count_with_text(&linkedin, "held"), 0);
    assert_eq!(audit.records().len(), 1);
}

#[tokio::test]
async fn a_call_dropped_while_it_waits_is_still_recorded_once() {
    use buffer_sim::Service;
    let sim = sim().await;
    let (bot, audit) = approvals(&sim, Arc::new(Never)).await;
    let bot = bot.approval_timeout(Duration::from_secs(3600));
    let linkedin = id_of(&sim, Service::Linkedin);
    let cut = tokio::time::timeout(
        Duration::from_millis(50),
        bot.create_post(&NewPost::new("dropped").channel(linkedin.clone())),
    )
    .await;
    assert!(cut.is_err(), "the call was to be cut while it waited");
    assert_eq!(sim.store().count_with_text(&linkedin, "dropped"), 0);
    let records = audit.records();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].requests, 0);
}

#[tokio::test]
async fn a_call_whose_approver_panics_is_still_recorded_once() {
    use buffer_sim::Service;
    let sim = sim().await;
    let (bot, audit) = approvals(&sim, Arc::new(Panics)).await;
    let linkedin = id_of(&sim, Service::Linkedin);
    let bot = Arc::new(bot);
    sim.clear_requests();
    let task = {
        let bot = bot.clone();
        tokio::spawn(async move {
            bot.create_post(&NewPost::new("panicked").channel(linkedin))
                .await
        })
    };
    assert!(task.await.unwrap_err().is_panic());
    assert_eq!(sim.requests().len(), 0);
    assert_eq!(audit.records().len(), 1);
}

/// A backend whose every call panics: a bug below the access layer.
#[derive(Debug)]
struct Broken;

#[async_trait::async_trait]
impl Backend for Broken {
    fn kind(&self) -> BackendKind {
        BackendKind::ClassicRest
    }

    async fn execute(&self, _: Request) -> buffer_bridge::Result<Response> {
        panic!("a bug below")
    }
}

#[tokio::test]
async fn a_call_that_panics_below_is_still_recorded_once() {
    let sim = sim().await;
    let buffer = classic(&sim);
    let agent = agent_of(&buffer, LINKEDIN_WRITER, "bot").await;
    let audit = MemoryAudit::new();
    let bot = Arc::new(Access::new(Broken, agent).audit(Arc::new(audit.clone())));
    let task = tokio::spawn(async move { bot.channels().await });
    assert!(task.await.unwrap_err().is_panic());
    assert_eq!(audit.records().len(), 1);
}

#[tokio::test]
async fn a_failing_call_is_recorded_once_with_its_requests() {
    let sim = sim().await;
    let (bot, audit) = linkedin_writer(&sim).await;
    sim.set_faults(buffer_sim::Faults::seeded(1).server_errors(1.0));
    sim.clear_requests();
    assert!(bot.channels().await.is_err());
    let sent = sim.requests().len();
    assert!(sent >= 1);
    let records = audit.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].requests as usize, sent);
    sim.clear_faults();
    sim.clear_requests();
    bot.channels().await.unwrap();
    let records = audit.records();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].requests as usize, sim.requests().len());
}

#[tokio::test]
async fn no_secret_and_no_post_text_beyond_the_preview_in_records() {
    use buffer_sim::Service;
    let sim = sim().await;
    let (bot, audit) = linkedin_writer(&sim).await;
    let linkedin = id_of(&sim, Service::Linkedin);
    let twitter = id_of(&sim, Service::Twitter);
    let hidden = "HIDDEN-MARKER-9d1e";
    let long = format!("{}{hidden}", "x".repeat(40));
    // Allowed and created; allowed and refused by Buffer (too long for LinkedIn); denied.
    bot.create_post(&NewPost::new(long.clone()).channel(linkedin.clone()))
        .await
        .unwrap();
    let too_long = format!("{}{hidden}{}", "y".repeat(30), "y".repeat(5000));
    let _ = bot
        .create_post(&NewPost::new(too_long.clone()).channel(linkedin.clone()))
        .await;
    let denied = bot
        .create_post(&NewPost::new(long.clone()).channel(twitter.clone()))
        .await
        .unwrap_err();
    sim.set_faults(buffer_sim::Faults::seeded(2).server_errors(1.0));
    let failed = bot
        .create_post(&NewPost::new(format!("{long} again")).channel(linkedin.clone()))
        .await;
    sim.clear_faults();
    let mut said = format!("{bot:?}\n{denied}\n{denied:?}\n{failed:?}\n");
    for record in audit.records() {
        said.push_str(&serde_json::to_string(&record).unwrap());
        said.push_str(&format!("\n{record}\n{record:?}\n"));
    }
    let b64 = base64(TOKEN);
    for secret in [TOKEN, &b64, "SECRET-7f3a9c", hidden] {
        assert!(!said.contains(secret), "{secret:?} leaked in:\n{said}");
    }
}

#[tokio::test]
async fn a_policy_error_names_its_line() {
    let text =
        "[[agents.bot.grant]]\nchannels = [\"*\"]\nfamilies = [\"posts\"]\naccess = \"admin\"\n";
    let error = Policy::from_toml_str(text).unwrap_err().to_string();
    assert!(error.contains("line 4"), "{error}");
    let typo =
        "[[agents.bot.grant]]\nchannel = [\"*\"]\nfamilies = [\"posts\"]\naccess = \"read\"\n";
    let error = Policy::from_toml_str(typo).unwrap_err().to_string();
    assert!(error.contains("line 2"), "{error}");
}

#[tokio::test]
async fn a_grant_on_an_unknown_or_ambiguous_channel_is_reported_and_grants_nothing() {
    use buffer_sim::Service;
    let sim = sim().await;
    // A second LinkedIn channel with the same name: `linkedin:Buffer Sim` is now ambiguous.
    let twin = sim.store().add_channel(buffer_sim::ChannelSpec::new(
        sim.organization_id(),
        Service::Linkedin,
        "Buffer Sim",
    ));
    let buffer = classic(&sim);
    let policy = Policy::from_toml_str(
        r#"
[[agents.bot.grant]]
channels = ["linkedin:Nobody", "0123456789abcdef01234567"]
families = ["posts"]
access = "full"

[[agents.bot.grant]]
channels = ["linkedin:Buffer Sim"]
families = ["posts"]
access = "full"
"#,
    )
    .unwrap();
    let (agents, problems) = policy.resolve(&buffer.channels().await.unwrap());
    let said: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        said.iter().any(|p| p.contains("linkedin:Nobody")),
        "{said:?}"
    );
    assert!(
        said.iter().any(|p| p.contains("0123456789abcdef01234567")),
        "{said:?}"
    );
    assert!(
        said.iter().any(|p| p.contains("grant 2")),
        "an ambiguous name is reported: {said:?}"
    );
    let bot = Access::new(buffer, agents.get("bot").unwrap());
    sim.clear_requests();
    for channel in [
        id_of(&sim, Service::Twitter),
        id_of(&sim, Service::Linkedin),
        twin.id.clone(),
    ] {
        assert_forbidden(bot.create_post(&NewPost::new("x").channel(channel)).await);
    }
    assert_eq!(sim.requests().len(), 0);
}

#[tokio::test]
async fn an_empty_channel_list_creates_nothing() {
    let sim = sim().await;
    let (bot, audit) = linkedin_writer(&sim).await;
    let before = sim.store().posts().len();
    sim.clear_requests();
    let _ = bot.create_post(&NewPost::new("nowhere")).await;
    let _ = bot.create_posts(&[]).await;
    assert_eq!(sim.store().posts().len(), before);
    assert_eq!(sim.requests().len(), 0);
    assert_eq!(audit.records().len(), 2);
}

/// Standard base64, to look for the token in that encoding too.
fn base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}

#[tokio::test]
async fn two_agents_with_one_key_are_reported() {
    let sim = sim().await;
    let digest = buffer_bridge::access::key_digest("shared");
    let policy = Policy::from_toml_str(&format!(
        "[agents.a]\nkey_sha256 = \"{digest}\"\n[agents.b]\nkey_sha256 = \"{}\"\n",
        digest.to_uppercase()
    ))
    .unwrap();
    let (_, problems) = policy.resolve(&classic(&sim).channels().await.unwrap());
    let said: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(said.iter().any(|p| p.contains("same key")), "{said:?}");
}

#[tokio::test]
async fn reads_by_id_and_listings_show_nothing_of_a_channel_not_granted() {
    use buffer_sim::Service;
    let sim = sim().await;
    let buffer = classic(&sim);
    let agent = agent_of(
        &buffer,
        r#"
[[agents.bot.grant]]
channels = ["linkedin:Buffer Sim"]
families = ["posts"]
access = "read"
"#,
        "bot",
    )
    .await;
    let bot = Access::new(buffer, agent);
    let twitter = id_of(&sim, Service::Twitter);
    let secret_post = sim.store().queue(&twitter)[0].clone();
    let listed = bot.channels().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id.as_str(), id_of(&sim, Service::Linkedin));
    let refused = bot
        .post(&PostId::new(secret_post.id.clone()))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Forbidden);
    assert!(!format!("{refused} {refused:?}").contains(&secret_post.text));
    sim.clear_requests();
    assert_forbidden(bot.channel(&ChannelId::new(twitter.clone())).await);
    assert_forbidden(
        bot.posts(&buffer_bridge::model::PostQuery::new(
            ChannelId::new(twitter.clone()),
            buffer_bridge::model::PostList::Queue,
        ))
        .await,
    );
    assert_eq!(sim.requests().len(), 0);
}

#[tokio::test]
async fn publishing_now_needs_full_whatever_the_path() {
    use buffer_bridge::model::{PostEdit, When};
    use buffer_sim::Service;
    let sim = sim().await;
    let buffer = classic(&sim);
    let agent = agent_of(
        &buffer,
        r#"
[[agents.bot.grant]]
channels = ["linkedin:Buffer Sim"]
families = ["posts"]
access = "write"
"#,
        "bot",
    )
    .await;
    let audit = MemoryAudit::new();
    let bot = Access::new(buffer, agent).audit(Arc::new(audit.clone()));
    let linkedin = id_of(&sim, Service::Linkedin);
    let queued = sim.store().queue(&linkedin)[0].clone();
    let posts_before = sim.store().posts().len();
    sim.clear_requests();
    // `share_post` (publish now) needs full; a create or an edit that publishes now is the same
    // irreversible act and must need it too.
    assert_forbidden(bot.share_post(&PostId::new(queued.id.clone())).await);
    assert_forbidden(
        bot.create_post(
            &NewPost::new("right now")
                .channel(linkedin.clone())
                .when(When::Now),
        )
        .await,
    );
    assert_forbidden(
        bot.create_posts(&[
            NewPost::new("queued").channel(linkedin.clone()),
            NewPost::new("now, in a batch")
                .channel(linkedin.clone())
                .when(When::Now),
        ])
        .await,
    );
    assert_forbidden(
        bot.edit_post(
            &PostId::new(queued.id.clone()),
            &PostEdit::default().when(When::Now),
        )
        .await,
    );
    assert!(sim.requests().iter().all(|r| r.method == "GET"));
    assert_eq!(sim.store().posts().len(), posts_before);
    assert_eq!(sim.store().post(&queued.id).unwrap().status, queued.status);
    assert_eq!(audit.records().len(), 4);
    // Queueing is still the write it was.
    bot.create_post(&NewPost::new("queued is fine").channel(linkedin.clone()))
        .await
        .unwrap()
        .into_result()
        .unwrap();
}

#[tokio::test]
async fn names_from_buffer_or_the_policy_cannot_forge_audit_lines() {
    use buffer_sim::Service;
    let sim = sim().await;
    let forged = "acme\n2026-12-01 07:00:00 admin deleted every post \u{2014} allowed\r\u{1b}[2K";
    let channel = sim.store().add_channel(buffer_sim::ChannelSpec::new(
        sim.organization_id(),
        Service::Mastodon,
        forged,
    ));
    let buffer = classic(&sim);
    let policy = Policy::from_toml_str(
        "[[agents.\"bot\\nadmin\".grant]]\nchannels = [\"*\"]\nfamilies = [\"posts\"]\naccess = \"full\"\n",
    )
    .unwrap();
    let (agents, _) = policy.resolve(&buffer.channels().await.unwrap());
    let audit = MemoryAudit::new();
    let bot = Access::new(buffer, agents.get("bot\nadmin").unwrap()).audit(Arc::new(audit.clone()));
    let post = bot
        .create_post(&NewPost::new("hello").channel(channel.id.clone()))
        .await
        .unwrap()
        .into_result()
        .unwrap();
    let _ = bot.delete_post(&post[0].id).await;
    let records = audit.records();
    assert_eq!(records.len(), 2);
    for record in records {
        let line = record.to_string();
        assert!(
            !line.chars().any(char::is_control),
            "a control character in {line:?}"
        );
    }
}

#[tokio::test]
async fn reordering_an_allowed_queue_with_another_channels_posts_changes_only_it() {
    use buffer_sim::Service;
    let sim = sim().await;
    let (bot, _) = linkedin_writer(&sim).await;
    let linkedin = ChannelId::new(id_of(&sim, Service::Linkedin));
    let twitter = id_of(&sim, Service::Twitter);
    let ids = |channel: &str| -> Vec<String> {
        sim.store()
            .queue(channel)
            .iter()
            .map(|p| p.id.clone())
            .collect()
    };
    let twitter_before = ids(&twitter);
    let foreign: Vec<PostId> = twitter_before.iter().rev().map(PostId::new).collect();
    let _ = bot.reorder_queue(&linkedin, &foreign, None).await;
    assert_eq!(ids(&twitter), twitter_before);
    for id in &twitter_before {
        assert_eq!(sim.store().post(id).unwrap().channel_id, twitter);
    }
}

#[tokio::test]
async fn no_credential_in_records_of_refused_credentials_or_failing_graphql_calls() {
    use buffer_sim::Service;
    let api_key = "graphql-key-SECRET-51d0e2";
    let sim = Simulator::builder()
        .access_token(TOKEN)
        .api_key(api_key)
        .start()
        .await;
    let graphql = buffer_bridge::graphql::GraphQl::builder()
        .api_key(api_key)
        .base_url(sim.graphql_url())
        .build()
        .unwrap();
    let agent = agent_of(&graphql, LINKEDIN_WRITER, "bot").await;
    let audit = MemoryAudit::new();
    let linkedin = id_of(&sim, Service::Linkedin);
    let hidden = "HIDDEN-MARKER-77ab";
    let text = format!("{}{hidden}", "z".repeat(30));
    let bot = Access::new(graphql, agent.clone()).audit(Arc::new(audit.clone()));
    for faults in [
        buffer_sim::Faults::seeded(3).server_errors(1.0),
        buffer_sim::Faults::seeded(4).html_bodies(1.0),
        buffer_sim::Faults::seeded(5).null_answers(1.0),
        buffer_sim::Faults::seeded(6).truncated_bodies(1.0),
    ] {
        sim.set_faults(faults);
        let _ = bot
            .create_post(&NewPost::new(text.clone()).channel(linkedin.clone()))
            .await;
        let _ = bot.channels().await;
    }
    sim.clear_faults();
    let too_long = format!("{}{hidden}{}", "z".repeat(30), "z".repeat(5000));
    let _ = bot
        .create_post(&NewPost::new(too_long).channel(linkedin.clone()))
        .await;
    // Wrong credentials, both APIs: the refusal must not quote what was sent.
    let wrong_key = "wrong-graphql-SECRET-aa01";
    let wrong_token = "wrong-classic-SECRET-bb02";
    let refused_graphql = buffer_bridge::graphql::GraphQl::builder()
        .api_key(wrong_key)
        .base_url(sim.graphql_url())
        .build()
        .unwrap();
    let refused_classic = ClassicRest::builder()
        .access_token(wrong_token)
        .base_url(sim.rest_url())
        .build()
        .unwrap();
    let a = Access::new(refused_graphql, agent.clone()).audit(Arc::new(audit.clone()));
    let b = Access::new(refused_classic, agent).audit(Arc::new(audit.clone()));
    let ea = a.channels().await.unwrap_err();
    let eb = b.channels().await.unwrap_err();
    assert_eq!(audit.records().len(), 11);
    let mut said = format!("{a:?}\n{b:?}\n{ea}\n{ea:?}\n{eb}\n{eb:?}\n");
    for record in audit.records() {
        said.push_str(&serde_json::to_string(&record).unwrap());
        said.push_str(&format!("\n{record}\n{record:?}\n"));
    }
    for secret in [api_key, wrong_key, wrong_token, TOKEN, hidden] {
        for form in [secret.to_owned(), base64(secret)] {
            assert!(!said.contains(&form), "{form:?} leaked in:\n{said}");
        }
    }
}

/// An API that reads an empty channel filter as "every channel", as many do.
#[derive(Debug)]
struct EmptyMeansAll<B>(B);

#[async_trait::async_trait]
impl<B: Backend> Backend for EmptyMeansAll<B> {
    fn kind(&self) -> BackendKind {
        self.0.kind()
    }

    fn capabilities(&self) -> buffer_bridge::backend::Capabilities {
        self.0.capabilities()
    }

    async fn execute(&self, request: Request) -> buffer_bridge::Result<Response> {
        let all = || async {
            let channels = self.0.channels().await?;
            Ok::<_, buffer_bridge::Error>(channels.into_iter().map(|c| c.id).collect::<Vec<_>>())
        };
        let request = match request {
            Request::DailyPostingLimits { channel_ids } if channel_ids.is_empty() => {
                Request::DailyPostingLimits {
                    channel_ids: all().await?,
                }
            }
            Request::RecentPosts { channel_ids, since } if channel_ids.is_empty() => {
                Request::RecentPosts {
                    channel_ids: all().await?,
                    since,
                }
            }
            other => other,
        };
        self.0.execute(request).await
    }
}

#[tokio::test]
async fn an_empty_channel_filter_answers_nothing_of_channels_not_granted() {
    use buffer_sim::Service;
    let sim = sim().await;
    let graphql = buffer_bridge::graphql::GraphQl::builder()
        .api_key(sim.api_key())
        .base_url(sim.graphql_url())
        .build()
        .unwrap();
    let agent = agent_of(
        &graphql,
        r#"
[[agents.bot.grant]]
channels = ["linkedin:Buffer Sim"]
families = ["posts"]
access = "read"
"#,
        "bot",
    )
    .await;
    let bot = Access::new(EmptyMeansAll(graphql), agent);
    let linkedin = id_of(&sim, Service::Linkedin);
    if let Ok(limits) = bot.daily_posting_limits(&[]).await {
        assert!(
            limits.iter().all(|l| l.channel_id.as_str() == linkedin),
            "{limits:?}"
        );
    }
    let since = chrono::Utc::now() - chrono::TimeDelta::days(365);
    if let Ok(recent) = bot.recent_posts(&[], since).await {
        assert!(
            recent
                .posts
                .iter()
                .all(|p| p.channel_id.as_str() == linkedin),
            "{:?}",
            recent
                .posts
                .iter()
                .map(|p| &p.channel_id)
                .collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn another_writes_idempotency_key_reveals_nothing_of_it() {
    use buffer_bridge::journal::IdempotencyKey;
    use buffer_sim::Service;
    let sim = sim().await;
    let buffer = Arc::new(Retrying::new(classic(&sim)));
    let twitter = id_of(&sim, Service::Twitter);
    let linkedin = id_of(&sim, Service::Linkedin);
    let key = IdempotencyKey::new("campaign-42").unwrap();
    let operator_post = NewPost::new("operator's secret launch text")
        .channel(twitter.clone())
        .idempotency_key(key.clone());
    buffer.create_post(&operator_post).await.unwrap();
    let agent = agent_of(&buffer, LINKEDIN_WRITER, "bot").await;
    let bot = Access::new(buffer.clone(), agent);
    let reused = NewPost::new("bot text")
        .channel(linkedin.clone())
        .idempotency_key(key);
    let answer = format!("{:?}", bot.create_post(&reused).await);
    assert!(!answer.contains("secret launch"), "{answer}");
    assert!(!answer.contains(&twitter), "{answer}");
    assert_eq!(sim.store().count_with_text(&twitter, "bot text"), 0);
}
