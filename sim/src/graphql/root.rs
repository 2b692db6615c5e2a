//! The root `Query` and `Mutation` resolvers: they read and change the store, then hand JSON
//! trees to [`JsonNode`] for the nested selections.

use std::cell::RefCell;

use apollo_compiler::Schema;
use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::{Value, json};

use super::filter::{PostFilter, PostOrder};
use super::node::{default_of, is_member, resolve};
use super::render;
use crate::model::{Asset, AssetKind, Idea, Post, PostStatus, Service, ShareMode};
use crate::network_rules;
use crate::paging::{After, cursor_page};
use crate::schedule::timezone;
use crate::store::{NewPost, PostEdit, SimError, State, Store, When};

/// Largest page `posts` and `ideas` serve.
pub(crate) const MAX_PAGE: i64 = 100;
/// Page size when `first` is not given.
const DEFAULT_PAGE: i64 = 20;

/// What one request's resolvers share.
pub(crate) struct RequestCtx {
    pub(crate) store: Store,
    pub(crate) account_id: String,
    /// `extensions.code` for each error message raised by a resolver.
    pub(crate) codes: RefCell<Vec<(String, &'static str)>>,
}

impl RequestCtx {
    fn fail(&self, message: impl Into<String>, code: &'static str) -> FieldError {
        let message = message.into();
        self.codes.borrow_mut().push((message.clone(), code));
        FieldError { message }
    }

    fn sim_fail(&self, error: &SimError) -> FieldError {
        let code = match error {
            SimError::ChannelNotFound | SimError::PostNotFound | SimError::OrganizationNotFound => {
                "NOT_FOUND"
            }
            SimError::ChannelForbidden | SimError::PostForbidden => "FORBIDDEN",
            _ => "BAD_USER_INPUT",
        };
        self.fail(error.to_string(), code)
    }
}

/// `Query` or `Mutation`.
pub(crate) struct Root<'r> {
    pub(crate) type_name: &'static str,
    pub(crate) ctx: &'r RequestCtx,
}

impl ObjectValue for Root<'_> {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let args = serde_json::to_value(info.arguments()).unwrap_or(Value::Null);
        let input = args.get("input").cloned().unwrap_or(Value::Null);
        let schema = info.schema();
        let ty = &info.field_definition().ty;
        let ctx = self.ctx;
        let node = |value: Value| Ok(resolve(schema, ty, Some(&value)));
        match (self.type_name, info.field_name()) {
            ("Query", "account") => node(self.account()?),
            ("Query", "channels") => node(self.channels(&input)?),
            ("Query", "channel") => node(self.channel(&input)?),
            ("Query", "post") => node(self.post(&input)?),
            ("Query", "posts") => node(self.posts(&input, &args)?),
            ("Query", "dailyPostingLimits") => node(self.daily_limits(&input)?),
            ("Query", "ideas") => node(self.ideas(&input, &args)?),
            ("Mutation", "createPost") => node(payload(schema, ty, self.create_post(&input))),
            ("Mutation", "editPost") => node(payload(schema, ty, self.edit_post(&input))),
            ("Mutation", "deletePost") => node(payload(schema, ty, self.delete_post(&input))),
            ("Mutation", "movePostInQueue") => node(payload(schema, ty, self.move_post(&input))),
            ("Mutation", "createIdea") => node(payload(schema, ty, self.create_idea(&input))),
            ("Mutation", field) => {
                let message = format!("{field} is not implemented by the Buffer simulator");
                node(payload(schema, ty, Err(SimError::Invalid(message))))
            }
            (_, field) => {
                // A valid query field the simulator does not model: a lookup by id finds
                // nothing; anything else answers the empty value of its type.
                if input.get("id").is_some() && ty.is_non_null() {
                    return Err(ctx.fail(format!("{field} not found"), "NOT_FOUND"));
                }
                Ok(if ty.is_non_null() {
                    default_of(schema, ty)
                } else {
                    ResolvedValue::null()
                })
            }
        }
    }
}

/// A mutation result as a member of its payload union: the success value, or the error
/// member the union has (falling back to a general one when Buffer's union lacks the ideal).
fn payload(
    schema: &Valid<Schema>,
    ty: &apollo_compiler::ast::Type,
    result: Result<Value, SimError>,
) -> Value {
    let union = ty.inner_named_type().as_str();
    match result {
        Ok(value) => value,
        Err(error) => {
            let preferred = match &error {
                SimError::ChannelNotFound
                | SimError::PostNotFound
                | SimError::OrganizationNotFound => "NotFoundError",
                SimError::ChannelForbidden | SimError::PostForbidden => "UnauthorizedError",
                SimError::QueueLimit | SimError::ScheduleLimit => "LimitReachedError",
                _ => "InvalidInputError",
            };
            let fallbacks = [
                preferred,
                "VoidMutationError",
                "InvalidInputError",
                "UnexpectedError",
            ];
            let member = fallbacks
                .into_iter()
                .find(|m| is_member(schema, union, m))
                .map(str::to_owned)
                .or_else(|| error_member(schema, union))
                .unwrap_or_else(|| preferred.to_owned());
            json!({ "__typename": member, "message": error.to_string() })
        }
    }
}

/// Any member of the union that implements `MutationError`.
fn error_member(schema: &Valid<Schema>, union: &str) -> Option<String> {
    match schema.types.get(union)? {
        ExtendedType::Union(u) => u
            .members
            .iter()
            .find(|m| schema.is_subtype("MutationError", m.name.as_str()))
            .map(|m| m.name.to_string()),
        _ => None,
    }
}

pub(super) fn str_field<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str)
}

pub(super) fn parse_time(text: &str) -> Result<DateTime<Utc>, SimError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| SimError::Invalid(format!("Invalid DateTime: {text}")))
}

/// `[AssetInput!]` items (each has exactly one of image, video, document, link).
fn assets(value: Option<&Value>) -> Vec<Asset> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let (kind, inner) = [
                ("image", AssetKind::Image),
                ("video", AssetKind::Video),
                ("document", AssetKind::Document),
                ("link", AssetKind::Link),
            ]
            .into_iter()
            .find_map(|(key, kind)| item.get(key).filter(|v| v.is_object()).map(|v| (kind, v)))?;
            Some(Asset {
                kind,
                url: str_field(inner, "url")?.to_owned(),
                thumbnail: str_field(inner, "thumbnailUrl").map(str::to_owned),
                title: str_field(inner, "title")
                    .or_else(|| inner.get("metadata").and_then(|m| str_field(m, "title")))
                    .map(str::to_owned),
                description: str_field(inner, "description")
                    .or_else(|| inner.get("metadata").and_then(|m| str_field(m, "altText")))
                    .map(str::to_owned),
            })
        })
        .collect()
}

/// A `metadata.<service>.linkAttachment`, as a link asset.
fn link_attachment(metadata: Option<&Value>) -> Option<Asset> {
    let services = metadata?.as_object()?;
    services.values().find_map(|svc| {
        let link = svc.get("linkAttachment")?;
        Some(Asset {
            kind: AssetKind::Link,
            url: str_field(link, "url")?.to_owned(),
            thumbnail: link
                .get("thumbnail")
                .and_then(|t| str_field(t, "url"))
                .map(str::to_owned),
            title: str_field(link, "title").map(str::to_owned),
            description: str_field(link, "description").map(str::to_owned),
        })
    })
}

/// What an edit's `metadata` says about the link preview: `None` when it does not name
/// `linkAttachment`, `Some(None)` when it sets it to `null` (remove), else the new preview.
fn link_change(metadata: Option<&Value>) -> Option<Option<Asset>> {
    let services = metadata?.as_object()?;
    services
        .values()
        .any(|svc| svc.get("linkAttachment").is_some())
        .then(|| link_attachment(metadata))
}

/// A post's assets with its link preview replaced (or removed), the media kept.
fn with_link(assets: &[Asset], link: Option<Asset>) -> Result<Vec<Asset>, SimError> {
    let mut kept: Vec<Asset> = assets
        .iter()
        .filter(|a| a.kind != AssetKind::Link)
        .cloned()
        .collect();
    if let Some(link) = link {
        if kept.iter().any(|a| a.kind != AssetKind::Retweet) {
            return Err(SimError::Invalid(
                "A link attachment and assets cannot be used together".to_owned(),
            ));
        }
        kept.push(link);
    }
    Ok(kept)
}

/// A `metadata.twitter.retweet`, as a retweet asset.
fn retweet(metadata: Option<&Value>) -> Option<Asset> {
    let retweet = metadata?.get("twitter")?.get("retweet")?;
    Some(Asset {
        kind: AssetKind::Retweet,
        url: str_field(retweet, "id")?.to_owned(),
        thumbnail: None,
        title: None,
        description: str_field(retweet, "comment").map(str::to_owned),
    })
}

/// Assets plus link attachment; the two together are refused, as Buffer does since July 2026.
fn input_assets(input: &Value) -> Result<Vec<Asset>, SimError> {
    let mut list = assets(input.get("assets"));
    if let Some(link) = link_attachment(input.get("metadata")) {
        if !list.is_empty() {
            return Err(SimError::Invalid(
                "A link attachment and assets cannot be used together".to_owned(),
            ));
        }
        list.push(link);
    }
    list.extend(retweet(input.get("metadata")));
    Ok(list)
}

/// `mode` + `dueAt` + `saveToDraft` → when.
fn when_of(input: &Value, current_due: Option<DateTime<Utc>>) -> Result<Option<When>, SimError> {
    if input.get("saveToDraft").and_then(Value::as_bool) == Some(true) {
        return Ok(Some(When::Draft));
    }
    let due = str_field(input, "dueAt").map(parse_time).transpose()?;
    Ok(match str_field(input, "mode").and_then(ShareMode::parse) {
        Some(ShareMode::AddToQueue) => Some(When::Queue),
        Some(ShareMode::ShareNext) => Some(When::Next),
        Some(ShareMode::ShareNow) => Some(When::Now),
        Some(ShareMode::CustomScheduled) => {
            Some(When::At(due.or(current_due).ok_or_else(|| {
                SimError::Invalid("dueAt is required when mode is customScheduled".to_owned())
            })?))
        }
        None => due.map(When::At),
    })
}

impl Root<'_> {
    fn with<R>(
        &self,
        f: impl FnOnce(&mut State, DateTime<Utc>, &crate::store::StoreConfig, &str) -> R,
    ) -> R {
        let account = self.ctx.account_id.as_str();
        self.ctx
            .store
            .with(|state, now, config| f(state, now, config, account))
    }

    fn post_json(state: &State, post: &Post) -> Value {
        let channel = state.channels.iter().find(|c| c.id == post.channel_id);
        let author = state.accounts.iter().find(|a| a.id == post.author_id);
        render::post(post, channel, author)
    }

    fn success(state: &State, post: &Post) -> Value {
        json!({ "__typename": "PostActionSuccess", "post": Self::post_json(state, post) })
    }

    fn account(&self) -> Result<Value, FieldError> {
        let found = self.with(|state, _, config, account_id| {
            let account = state.accounts.iter().find(|a| a.id == account_id)?;
            let orgs = state
                .organizations
                .iter()
                .filter(|o| o.account_id == account_id)
                .map(|o| {
                    let count = state
                        .channels
                        .iter()
                        .filter(|c| c.organization_id == o.id)
                        .count();
                    render::organization(o, account, count, config)
                })
                .collect();
            Some(render::account(account, orgs))
        });
        found.ok_or_else(|| self.ctx.fail("Account not found", "NOT_FOUND"))
    }

    fn organization_check(
        &self,
        state: &State,
        account: &str,
        input: &Value,
    ) -> Result<String, FieldError> {
        let org = str_field(input, "organizationId").unwrap_or_default();
        if state.owns_organization(account, org) {
            Ok(org.to_owned())
        } else {
            Err(self.ctx.sim_fail(&SimError::OrganizationNotFound))
        }
    }

    fn channels(&self, input: &Value) -> Result<Value, FieldError> {
        self.with(|state, _, _, account| {
            let org = self.organization_check(state, account, input)?;
            let locked = input
                .get("filter")
                .and_then(|f| f.get("isLocked"))
                .and_then(Value::as_bool);
            Ok(Value::Array(
                state
                    .channels
                    .iter()
                    .filter(|c| c.organization_id == org && locked.is_none_or(|l| c.is_locked == l))
                    .map(render::channel)
                    .collect(),
            ))
        })
    }

    fn channel(&self, input: &Value) -> Result<Value, FieldError> {
        self.with(|state, _, _, account| {
            let id = str_field(input, "id").unwrap_or_default();
            state
                .channel_for(account, id)
                .map(render::channel)
                .map_err(|e| self.ctx.sim_fail(&e))
        })
    }

    fn post(&self, input: &Value) -> Result<Value, FieldError> {
        self.with(|state, _, _, account| {
            let id = str_field(input, "id").unwrap_or_default();
            let post = state
                .post_for(account, id)
                .map_err(|e| self.ctx.sim_fail(&e))?;
            Ok(Self::post_json(state, post))
        })
    }

    fn page_size(&self, args: &Value) -> Result<usize, FieldError> {
        let first = args
            .get("first")
            .and_then(Value::as_i64)
            .unwrap_or(DEFAULT_PAGE);
        if !(0..=MAX_PAGE).contains(&first) {
            return Err(self.ctx.fail(
                format!("first must be between 0 and {MAX_PAGE}, got {first}"),
                "BAD_USER_INPUT",
            ));
        }
        Ok(first as usize)
    }

    /// Where the `after` cursor says the page begins, if one is given.
    fn after(&self, args: &Value) -> Result<Option<(usize, String)>, FieldError> {
        str_field(args, "after")
            .map(|cursor| {
                decode_cursor(cursor)
                    .ok_or_else(|| self.ctx.fail("Invalid cursor", "BAD_USER_INPUT"))
            })
            .transpose()
    }

    /// One connection page of `items` in `order`: only the page's items are rendered.
    fn page<'s, T: Copy + 's>(
        &self,
        args: &Value,
        items: impl Iterator<Item = T> + Clone,
        id_of: impl Fn(T) -> &'s str,
        order: impl Fn(&T, &T) -> std::cmp::Ordering,
        render: impl Fn(T) -> Value,
    ) -> Result<Value, FieldError> {
        let first = self.page_size(args)?;
        let after = self.after(args)?;
        let after = after.as_ref().map(|(offset, id)| After {
            offset: *offset,
            id,
        });
        let page = cursor_page(items, &id_of, order, after, first);
        let edges: Vec<Value> = page
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                json!({ "cursor": encode_cursor(page.start + i, id_of(*item)), "node": render(*item) })
            })
            .collect();
        let cursor_of = |edge: Option<&Value>| {
            edge.and_then(|e| e.get("cursor"))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let page_info = json!({
            "startCursor": cursor_of(edges.first()),
            "endCursor": cursor_of(edges.last()),
            "hasNextPage": page.has_next,
            "hasPreviousPage": false,
        });
        Ok(json!({ "edges": edges, "pageInfo": page_info }))
    }

    fn posts(&self, input: &Value, args: &Value) -> Result<Value, FieldError> {
        self.with(|state, _, _, account| {
            let org = self.organization_check(state, account, input)?;
            let filter = input.get("filter").unwrap_or(&Value::Null);
            let filter = PostFilter::read(filter);
            let order = PostOrder::read(input.get("sort"));
            // The organization's channels the filter allows: usually one or a few.
            let channels: Vec<&str> = state
                .channels
                .iter()
                .filter(|c| c.organization_id == org && filter.allows_channel(&c.id))
                .map(|c| c.id.as_str())
                .collect();
            let matching = state
                .posts
                .iter()
                .filter(|p| channels.contains(&p.channel_id.as_str()) && filter.matches(p));
            self.page(
                args,
                matching,
                |p| p.id.as_str(),
                |a, b| order.compare(a, b),
                |p| Self::post_json(state, p),
            )
        })
    }

    fn daily_limits(&self, input: &Value) -> Result<Value, FieldError> {
        self.with(|state, now, config, account| {
            let date = match str_field(input, "date") {
                Some(text) => parse_time(text).map_err(|e| self.ctx.sim_fail(&e))?,
                None => now,
            };
            let ids: Vec<&str> = input
                .get("channelIds")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = Vec::new();
            for id in ids {
                let channel = state
                    .channel_for(account, id)
                    .map_err(|e| self.ctx.sim_fail(&e))?;
                let tz = timezone(&channel.timezone);
                let day = date.with_timezone(&tz).date_naive();
                let start = tz
                    .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
                    .earliest()
                    .map_or(date, |t| t.with_timezone(&Utc));
                let end = start + TimeDelta::days(1);
                let within = |t: Option<DateTime<Utc>>| t.is_some_and(|t| t >= start && t < end);
                let of_channel = state.posts.iter().filter(|p| p.channel_id == id);
                let scheduled = of_channel
                    .clone()
                    .filter(|p| p.status == PostStatus::Scheduled && within(p.due_at))
                    .count();
                let sent = of_channel
                    .filter(|p| p.status == PostStatus::Sent && within(p.sent_at))
                    .count();
                out.push(json!({
                    "channelId": id,
                    "limit": config.daily_limit,
                    "scheduled": scheduled,
                    "sent": sent,
                    "isAtLimit": config.daily_limit.is_some_and(|l| scheduled + sent >= l as usize),
                }));
            }
            Ok(Value::Array(out))
        })
    }

    fn ideas(&self, input: &Value, args: &Value) -> Result<Value, FieldError> {
        self.with(|state, _, _, account| {
            let org = self.organization_check(state, account, input)?;
            let group = input.get("groupFilter").cloned().unwrap_or(Value::Null);
            let groups: Option<Vec<&str>> = group
                .get("groups")
                .and_then(Value::as_array)
                .map(|g| g.iter().filter_map(Value::as_str).collect());
            let membership = str_field(&group, "membership");
            // Creation order: the position in the store.
            let matching = state
                .ideas
                .iter()
                .enumerate()
                .filter(|(_, i)| i.organization_id == org)
                .filter(|(_, i)| {
                    groups
                        .as_ref()
                        .is_none_or(|g| i.group_id.as_deref().is_some_and(|id| g.contains(&id)))
                })
                .filter(|(_, i)| match membership {
                    Some("grouped") => i.group_id.is_some(),
                    Some("ungrouped") => i.group_id.is_none(),
                    _ => true,
                });
            self.page(
                args,
                matching,
                |(_, i)| i.id.as_str(),
                |(a, _), (b, _)| a.cmp(b),
                |(_, i)| render::idea(i),
            )
        })
    }

    fn create_post(&self, input: &Value) -> Result<Value, SimError> {
        self.with(|state, _, _, account| {
            network_rules::check_graphql_create(state, account, input)
        })?;
        let when = when_of(input, None)?.unwrap_or(When::Queue);
        let new = NewPost {
            assets: input_assets(input)?,
            scheduling_type: str_field(input, "schedulingType")
                .unwrap_or("automatic")
                .to_owned(),
            tag_ids: input
                .get("tagIds")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            idea_id: str_field(input, "ideaId").map(str::to_owned),
            ..NewPost::new(
                str_field(input, "channelId").unwrap_or_default(),
                str_field(input, "text").unwrap_or_default(),
                when,
            )
        };
        self.with(|state, now, config, account| {
            let mut created = state.create_posts(account, vec![new], now, config)?;
            let post = created.pop().ok_or(SimError::ChannelNotFound)?;
            Ok(Self::success(state, &post))
        })
    }

    fn edit_post(&self, input: &Value) -> Result<Value, SimError> {
        let id = str_field(input, "id").unwrap_or_default().to_owned();
        self.with(|state, now, config, account| {
            let current = state.post_for(account, &id)?;
            let current_due = current.due_at;
            let assets = match (input.get("assets"), link_change(input.get("metadata"))) {
                (Some(_), _) => Some(input_assets(input)?),
                (None, Some(link)) => Some(with_link(&current.assets, link)?),
                (None, None) => None,
            };
            let edit = PostEdit {
                // Absent keeps the text; null or "" clears it.
                text: input
                    .get("text")
                    .map(|t| t.as_str().unwrap_or_default().to_owned()),
                when: when_of(input, current_due)?,
                assets,
                scheduling_type: str_field(input, "schedulingType").map(str::to_owned),
                tag_ids: input.get("tagIds").map(|t| {
                    t.as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default()
                }),
            };
            let post = state.edit_post(account, &id, edit, now, config)?;
            Ok(Self::success(state, &post))
        })
    }

    fn delete_post(&self, input: &Value) -> Result<Value, SimError> {
        let id = str_field(input, "id").unwrap_or_default().to_owned();
        self.with(|state, now, _, account| {
            let post = state.delete_post(account, &id, now)?;
            Ok(json!({ "__typename": "DeletePostSuccess", "id": post.id }))
        })
    }

    fn move_post(&self, input: &Value) -> Result<Value, SimError> {
        let id = str_field(input, "id").unwrap_or_default().to_owned();
        let top = str_field(input, "position") != Some("bottom");
        self.with(|state, now, _, account| {
            let post = state.move_in_queue(account, &id, top, now)?;
            Ok(Self::success(state, &post))
        })
    }

    fn create_idea(&self, input: &Value) -> Result<Value, SimError> {
        let content = input.get("content").cloned().unwrap_or(Value::Null);
        let text_of = |key: &str| {
            str_field(&content, key)
                .filter(|t| !t.trim().is_empty())
                .map(str::to_owned)
        };
        let media: Vec<(String, String)> = content
            .get("media")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|m| {
                        Some((
                            str_field(m, "url")?.to_owned(),
                            str_field(m, "type").unwrap_or("image").to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if text_of("title").is_none() && text_of("text").is_none() && media.is_empty() {
            return Err(SimError::Invalid(
                "An idea needs a title, text or media".to_owned(),
            ));
        }
        if media.iter().any(|(_, kind)| kind == "video") {
            return Err(SimError::Invalid(
                "Video media is not supported for ideas through the API".to_owned(),
            ));
        }
        self.with(|state, now, _, account| {
            let org = str_field(input, "organizationId").unwrap_or_default();
            if !state.owns_organization(account, org) {
                return Err(SimError::OrganizationNotFound);
            }
            let idea = Idea {
                id: state.new_id(now),
                organization_id: org.to_owned(),
                title: text_of("title"),
                text: text_of("text"),
                services: content
                    .get("services")
                    .and_then(Value::as_array)
                    .map(|s| {
                        s.iter()
                            .filter_map(Value::as_str)
                            .filter_map(Service::parse)
                            .collect()
                    })
                    .unwrap_or_default(),
                media,
                ai_assisted: content
                    .get("aiAssisted")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                group_id: input
                    .get("group")
                    .and_then(|g| str_field(g, "groupId"))
                    .map(str::to_owned),
                created_at: now,
                updated_at: now,
            };
            Ok(render::idea(&state.add_idea_record(idea)))
        })
    }
}

fn encode_cursor(offset: usize, id: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("v1:{offset}:{id}"))
}

fn decode_cursor(cursor: &str) -> Option<(usize, String)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix("v1:")?;
    let (offset, id) = rest.split_once(':')?;
    Some((offset.parse().ok()?, id.to_owned()))
}
