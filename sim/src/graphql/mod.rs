//! The GraphQL API: every request is parsed and validated against `schema.graphql` (the
//! repository's copy of Buffer's schema) and executed field by field by apollo-compiler, with
//! Buffer's HTTP statuses: 401 without a key, 429 over a rate window, 400 for a document that
//! does not validate, 200 otherwise.

mod filter;
mod node;
mod render;
mod root;

use std::cell::RefCell;
use std::sync::OnceLock;

use apollo_compiler::Name;
use apollo_compiler::Schema;
use apollo_compiler::ast;
use apollo_compiler::executable::{ExecutableDocument, Selection, SelectionSet};
use apollo_compiler::resolvers::Execution;
use apollo_compiler::response::{
    ExecutionResponse, GraphQLError, JsonMap, ResponseDataPathSegment,
};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use serde_json::{Value, json};

use crate::faults::NullScope;
use crate::limits::{Limiter, Verdict};
use crate::log::Api;
use crate::reply::Reply;
use crate::store::Store;
use root::{RequestCtx, Root};

/// Buffer's schema: a copy, inside this crate so it ships with it, of the file the library
/// generates its types from (a test keeps the two identical).
pub const SCHEMA_SDL: &str = include_str!("../../schema.graphql");

/// Buffer's query limits: aliases, depth and parser tokens.
const MAX_ALIASES: usize = 30;
const MAX_TOKENS: usize = 15_000;
const MAX_DEPTH: usize = 25;

/// The schema, parsed and validated once per process.
pub(crate) fn schema() -> Result<&'static Valid<Schema>, String> {
    static SCHEMA: OnceLock<Result<Valid<Schema>, String>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Schema::parse_and_validate(SCHEMA_SDL, "schema.graphql")
                .map_err(|e| e.errors.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A GraphQL request, already read off the wire.
pub(crate) struct GraphQlRequest<'a> {
    pub(crate) method: &'a str,
    /// The `Authorization: Bearer` key, if any.
    pub(crate) bearer: Option<&'a str>,
    pub(crate) body: &'a [u8],
    /// A [`Fault::NullField`](crate::Fault::NullField) to apply once the operation has run.
    pub(crate) null_field: Option<NullScope>,
}

/// The operation's name and root fields, read without validation, for the log and for
/// route-targeted faults.
#[derive(Clone, Debug, Default)]
pub(crate) struct Label {
    pub(crate) operation: Option<String>,
    pub(crate) root_fields: Vec<String>,
    /// Whether the operation is a mutation (it needs write scopes).
    pub(crate) mutation: bool,
}

pub(crate) fn label(body: &[u8]) -> Label {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return Label::default();
    };
    let wanted = request.get("operationName").and_then(Value::as_str);
    let query = request
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let parsed = ast::Document::parser()
        .token_limit(MAX_TOKENS)
        .parse_ast(query, "request.graphql");
    let document = match parsed {
        Ok(document) => document,
        Err(with_errors) => with_errors.partial,
    };
    let operation = document.definitions.iter().find_map(|d| match d {
        ast::Definition::OperationDefinition(op)
            if wanted.is_none() || op.name.as_ref().map(|n| n.as_str()) == wanted =>
        {
            Some(op)
        }
        _ => None,
    });
    let Some(operation) = operation else {
        return Label::default();
    };
    let root_fields: Vec<String> = operation
        .selection_set
        .iter()
        .flat_map(|s| match s {
            ast::Selection::Field(f) => vec![f.name.to_string()],
            ast::Selection::InlineFragment(f) => f
                .selection_set
                .iter()
                .filter_map(|s| s.as_field().map(|f| f.name.to_string()))
                .collect(),
            ast::Selection::FragmentSpread(_) => Vec::new(),
        })
        .collect();
    Label {
        operation: operation
            .name
            .as_ref()
            .map(|n| n.to_string())
            .or_else(|| root_fields.first().cloned()),
        root_fields,
        mutation: operation.operation_type == ast::OperationType::Mutation,
    }
}

fn errors_body(errors: Vec<Value>) -> Value {
    json!({ "errors": errors })
}

fn error(message: &str, code: &str) -> Value {
    json!({ "message": message, "extensions": { "code": code } })
}

fn with_limits(mut reply: Reply, verdict: Option<&Verdict>) -> Reply {
    if let Some(verdict) = verdict {
        reply.headers.extend(verdict.headers());
    }
    reply
}

/// Whether `path` is where the GraphQL API answers (`/` and `/graphql`).
pub(crate) fn serves(path: &str) -> bool {
    path == "/" || path == "/graphql"
}

/// The account whose API key `bearer` is, or Buffer's 401 (`UNAUTHENTICATED`). It needs only
/// the request head, so the server checks it before reading a body.
pub(crate) fn authenticate(store: &Store, bearer: Option<&str>) -> Result<String, Reply> {
    bearer
        .and_then(|key| {
            store.with(|state, _, _| state.account_by_api_key(key).map(|a| a.id.clone()))
        })
        .ok_or_else(|| {
            Reply::json(
                401,
                &errors_body(vec![error(
                    "An authentication JWT or Access Token is required",
                    "UNAUTHENTICATED",
                )]),
            )
        })
}

/// Answers one GraphQL request.
pub(crate) fn handle(store: &Store, limiter: &Limiter, request: &GraphQlRequest<'_>) -> Reply {
    let account_id = match authenticate(store, request.bearer) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    let key = request.bearer.unwrap_or_default();
    let verdict = limiter.check(Api::GraphQl, key);
    if let Some(window) = &verdict.exceeded {
        let body = json!({ "errors": [{
            "message": "Too many requests from this client. Please try again later.",
            "extensions": { "code": "RATE_LIMIT_EXCEEDED", "window": window.short_name() },
        }]});
        return with_limits(Reply::json(429, &body), Some(&verdict))
            .header("retry-after", verdict.retry_after().to_string());
    }
    with_limits(execute(store, account_id, request), Some(&verdict))
}

fn bad_request(message: &str) -> Reply {
    Reply::json(400, &errors_body(vec![error(message, "BAD_REQUEST")]))
}

fn execute(store: &Store, account_id: String, request: &GraphQlRequest<'_>) -> Reply {
    if request.method != "POST" {
        return Reply::json(
            405,
            &errors_body(vec![error("GraphQL requests must be POST", "BAD_REQUEST")]),
        );
    }
    let schema = match schema() {
        Ok(schema) => schema,
        Err(message) => {
            return Reply::json(
                500,
                &errors_body(vec![error(&message, "INTERNAL_SERVER_ERROR")]),
            );
        }
    };
    let Ok(body) = serde_json::from_slice::<Value>(request.body) else {
        return bad_request("The request body is not valid JSON");
    };
    let Some(query) = body
        .get("query")
        .and_then(Value::as_str)
        .filter(|q| !q.trim().is_empty())
    else {
        return bad_request("GraphQL operations must contain a non-empty `query`");
    };
    let variables: JsonMap = match body.get("variables") {
        None | Some(Value::Null) => JsonMap::new(),
        Some(Value::Object(map)) => {
            serde_json::from_value(Value::Object(map.clone())).unwrap_or_default()
        }
        Some(_) => return bad_request("`variables` must be an object"),
    };
    let operation_name = body.get("operationName").and_then(Value::as_str);

    let parsed = ast::Document::parser()
        .token_limit(MAX_TOKENS)
        .parse_ast(query, "request.graphql");
    let document = match parsed {
        Ok(document) => document,
        Err(with_errors) => return diagnostics(&with_errors.errors, "GRAPHQL_PARSE_FAILED"),
    };
    let document = match document.to_executable_validate(schema) {
        Ok(document) => document,
        Err(with_errors) => return diagnostics(&with_errors.errors, "GRAPHQL_VALIDATION_FAILED"),
    };
    if let Some(message) = over_limits(&document) {
        return Reply::json(400, &errors_body(vec![json!({ "message": message })]));
    }
    let operation = match document.operations.get(operation_name) {
        Ok(operation) => operation,
        Err(e) => return bad_request(&e.message().to_string()),
    };
    let coerced =
        match apollo_compiler::request::coerce_variable_values(schema, operation, &variables) {
            Ok(values) => values,
            Err(e) => {
                let mut err = e.to_graphql_error(&document.sources);
                err.extensions.insert("code", "BAD_USER_INPUT".into());
                return Reply::json(400, &json!({ "errors": [err] }));
            }
        };
    let variables_json = serde_json::to_value(coerced.clone().into_inner()).unwrap_or(Value::Null);
    if let Some(message) = one_of_violation(schema, &document, operation, &variables_json) {
        return Reply::json(
            400,
            &errors_body(vec![error(&message, "GRAPHQL_VALIDATION_FAILED")]),
        );
    }
    let ctx = RequestCtx {
        store: store.clone(),
        account_id,
        codes: RefCell::new(Vec::new()),
    };
    let root_type = match operation.operation_type {
        ast::OperationType::Mutation => "Mutation",
        _ => "Query",
    };
    let root = Root {
        type_name: root_type,
        ctx: &ctx,
    };
    let result = Execution::new(schema, &document)
        .operation(operation)
        .coerced_variable_values(&coerced)
        .enable_schema_introspection(true)
        .execute_sync(&root);
    match result {
        Ok(mut response) => {
            let codes = ctx.codes.borrow();
            for err in &mut response.errors {
                if let Some(message) = err.message.strip_prefix("resolver error: ") {
                    err.message = message.to_owned();
                }
                let code = codes
                    .iter()
                    .find(|(message, _)| *message == err.message)
                    .map_or("INTERNAL_SERVER_ERROR", |(_, code)| *code);
                err.extensions.insert("code", code.into());
            }
            if let Some(scope) = request.null_field {
                lose_answer(&mut response, scope);
            }
            // Serialized as is: its maps keep the order of the selections.
            Reply::json_bytes(200, serde_json::to_vec(&response).unwrap_or_default())
        }
        Err(e) => {
            let mut err = e.to_graphql_error(&document.sources);
            err.extensions.insert("code", "BAD_USER_INPUT".into());
            Reply::json(400, &json!({ "errors": [err] }))
        }
    }
}

/// Replaces an executed answer with the one Buffer sends when a non-null field of a mutation's
/// payload fails after the mutation ran: the alias (or all of `data`) is `null` and an error
/// points into it.
fn lose_answer(response: &mut ExecutionResponse, scope: NullScope) {
    let Some(data) = response.data.as_mut() else {
        return;
    };
    let aliases: Vec<String> = data.keys().map(|k| k.as_str().to_owned()).collect();
    let position = match scope {
        NullScope::Data => 0,
        NullScope::Alias(n) => n.min(aliases.len().saturating_sub(1)),
    };
    let Some(alias) = aliases.get(position) else {
        return;
    };
    let path = [alias.as_str(), "post", "id"]
        .into_iter()
        .filter_map(|segment| Name::new(segment).ok())
        .map(ResponseDataPathSegment::Field)
        .collect();
    let mut extensions = JsonMap::new();
    extensions.insert("code", "INTERNAL_SERVER_ERROR".into());
    response.errors.push(GraphQLError {
        message: "Cannot return null for non-nullable field Post.id.".to_owned(),
        locations: Vec::new(),
        path,
        extensions,
    });
    match scope {
        NullScope::Data => response.data = None,
        NullScope::Alias(_) => {
            data.insert(alias.as_str(), apollo_compiler::response::JsonValue::Null);
        }
    }
}

fn diagnostics(list: &apollo_compiler::validation::DiagnosticList, code: &str) -> Reply {
    let errors: Vec<Value> = list
        .iter()
        .map(|d| {
            let mut err: GraphQLError = d.to_json();
            err.extensions.insert("code", code.into());
            serde_json::to_value(err).unwrap_or(Value::Null)
        })
        .collect();
    Reply::json(400, &errors_body(errors))
}

/// Buffer refuses documents with more than 30 aliases or deeper than 25 levels.
fn over_limits(document: &Valid<ExecutableDocument>) -> Option<String> {
    for operation in document.operations.iter() {
        let aliases = operation
            .all_fields(document)
            .filter(|f| f.alias.is_some())
            .count();
        if aliases > MAX_ALIASES {
            return Some(format!(
                "Query has {aliases} aliases; the maximum allowed is {MAX_ALIASES}."
            ));
        }
        if depth(document, &operation.selection_set, 0) > MAX_DEPTH {
            return Some(format!(
                "Query exceeds the maximum allowed depth of {MAX_DEPTH}."
            ));
        }
    }
    None
}

fn depth(document: &ExecutableDocument, set: &SelectionSet, guard: usize) -> usize {
    if guard > 64 {
        return guard;
    }
    set.selections
        .iter()
        .map(|selection| match selection {
            Selection::Field(field) if field.selection_set.selections.is_empty() => 1,
            Selection::Field(field) => 1 + depth(document, &field.selection_set, guard + 1),
            Selection::InlineFragment(inline) => depth(document, &inline.selection_set, guard + 1),
            Selection::FragmentSpread(spread) => document
                .fragments
                .get(&spread.fragment_name)
                .map_or(0, |f| depth(document, &f.selection_set, guard + 1)),
        })
        .max()
        .unwrap_or(0)
}

/// `@oneOf` input objects (AssetInput, IdeasGroupFilter) must set exactly one field; the
/// validator does not know the directive, so the root arguments are checked here.
fn one_of_violation(
    schema: &Valid<Schema>,
    document: &Valid<ExecutableDocument>,
    operation: &apollo_compiler::executable::Operation,
    variables: &Value,
) -> Option<String> {
    operation.root_fields(document).find_map(|field| {
        field.arguments.iter().find_map(|argument| {
            let definition = field.definition.argument_by_name(&argument.name)?;
            let value = literal(&argument.value, variables);
            check_one_of(schema, &definition.ty, &value)
        })
    })
}

/// An argument's value with variables substituted.
fn literal(value: &ast::Value, variables: &Value) -> Value {
    match value {
        ast::Value::Null => Value::Null,
        ast::Value::Enum(name) => json!(name.as_str()),
        ast::Value::Variable(name) => variables.get(name.as_str()).cloned().unwrap_or(Value::Null),
        ast::Value::String(text) => json!(text),
        ast::Value::Float(f) => json!(f.try_to_f64().unwrap_or_default()),
        ast::Value::Int(i) => json!(i.try_to_f64().unwrap_or_default()),
        ast::Value::Boolean(b) => json!(b),
        ast::Value::List(items) => {
            Value::Array(items.iter().map(|v| literal(v, variables)).collect())
        }
        ast::Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, v)| (name.to_string(), literal(v, variables)))
                .collect(),
        ),
    }
}

fn check_one_of(schema: &Valid<Schema>, ty: &ast::Type, value: &Value) -> Option<String> {
    match (ty, value) {
        (_, Value::Null) => None,
        (ast::Type::List(inner) | ast::Type::NonNullList(inner), Value::Array(items)) => items
            .iter()
            .find_map(|item| check_one_of(schema, inner, item)),
        (ast::Type::List(inner) | ast::Type::NonNullList(inner), single) => {
            check_one_of(schema, inner, single)
        }
        (ast::Type::Named(name) | ast::Type::NonNullNamed(name), Value::Object(fields)) => {
            let Some(ExtendedType::InputObject(input)) = schema.types.get(name.as_str()) else {
                return None;
            };
            if input.directives.has("oneOf")
                && fields.values().filter(|v| !v.is_null()).count() != 1
            {
                return Some(format!(
                    "OneOf Input Object \"{name}\" must specify exactly one key."
                ));
            }
            input.fields.iter().find_map(|(field_name, field)| {
                fields
                    .get(field_name.as_str())
                    .and_then(|v| check_one_of(schema, &field.ty, v))
            })
        }
        _ => None,
    }
}
