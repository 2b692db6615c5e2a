//! One resolver for every object type: a JSON tree read field by field against the schema.
//!
//! A field the tree lacks resolves to what the schema allows: `null` when nullable, otherwise
//! an empty list, `false`, `0`, an empty string, the first enum value or an empty object. So a
//! valid document that selects fields the simulator knows nothing about still gets an answer
//! of the right shape, never a crash.

use apollo_compiler::Schema;
use apollo_compiler::ast::Type;
use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use serde_json::{Map, Value};

/// An object of a concrete type, backed by JSON.
pub(crate) struct JsonNode {
    type_name: String,
    fields: Map<String, Value>,
}

impl JsonNode {
    pub(crate) fn new(type_name: &str, value: Value) -> Self {
        let fields = match value {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Self {
            type_name: type_name.to_owned(),
            fields,
        }
    }
}

impl ObjectValue for JsonNode {
    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let name = info.field_name();
        let value = self.fields.get(name);
        // The one field with arguments below the root: organizations(filter: {organizationId}).
        if self.type_name == "Account" && name == "organizations" {
            let wanted = info
                .arguments()
                .get("filter")
                .and_then(|f| f.as_object())
                .and_then(|f| f.get("organizationId"))
                .and_then(|id| id.as_str())
                .map(str::to_owned);
            if let (Some(wanted), Some(Value::Array(orgs))) = (wanted, value) {
                let kept: Vec<Value> = orgs
                    .iter()
                    .filter(|o| o.get("id").and_then(Value::as_str) == Some(wanted.as_str()))
                    .cloned()
                    .collect();
                return Ok(resolve(
                    info.schema(),
                    &info.field_definition().ty,
                    Some(&Value::Array(kept)),
                ));
            }
        }
        Ok(resolve(info.schema(), &info.field_definition().ty, value))
    }
}

/// Turns a JSON value into a resolved value of type `ty`, defaulting what is missing.
pub(crate) fn resolve<'a>(
    schema: &Valid<Schema>,
    ty: &Type,
    value: Option<&Value>,
) -> ResolvedValue<'a> {
    let value = value.filter(|v| !v.is_null());
    let Some(value) = value else {
        return if ty.is_non_null() {
            default_of(schema, ty)
        } else {
            ResolvedValue::null()
        };
    };
    match ty {
        Type::List(inner) | Type::NonNullList(inner) => {
            let items: Vec<ResolvedValue<'a>> = match value {
                Value::Array(items) => items
                    .iter()
                    .map(|item| resolve(schema, inner, Some(item)))
                    .collect(),
                single => vec![resolve(schema, inner, Some(single))],
            };
            ResolvedValue::list(items)
        }
        Type::Named(name) | Type::NonNullNamed(name) => match schema.types.get(name.as_str()) {
            Some(ExtendedType::Object(_)) => {
                ResolvedValue::object(JsonNode::new(name.as_str(), value.clone()))
            }
            Some(ExtendedType::Interface(_) | ExtendedType::Union(_)) => {
                let concrete = value
                    .get("__typename")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| first_concrete(schema, name.as_str()))
                    .unwrap_or_default();
                ResolvedValue::object(JsonNode::new(&concrete, value.clone()))
            }
            _ => ResolvedValue::leaf(apollo_compiler::response::JsonValue::from(value.clone())),
        },
    }
}

/// The value a non-null field gets when the store has nothing for it.
pub(crate) fn default_of<'a>(schema: &Valid<Schema>, ty: &Type) -> ResolvedValue<'a> {
    match ty {
        Type::List(_) | Type::NonNullList(_) => ResolvedValue::list(Vec::new()),
        Type::Named(name) | Type::NonNullNamed(name) => match schema.types.get(name.as_str()) {
            Some(ExtendedType::Object(_)) => {
                ResolvedValue::object(JsonNode::new(name.as_str(), Value::Null))
            }
            Some(ExtendedType::Interface(_) | ExtendedType::Union(_)) => {
                let concrete = first_concrete(schema, name.as_str()).unwrap_or_default();
                ResolvedValue::object(JsonNode::new(&concrete, Value::Null))
            }
            Some(ExtendedType::Enum(e)) => ResolvedValue::leaf(
                e.values
                    .keys()
                    .next()
                    .map(|v| v.as_str().to_owned())
                    .unwrap_or_default(),
            ),
            _ => ResolvedValue::leaf(match name.as_str() {
                "Int" => Value::from(0),
                "Float" => Value::from(0.0),
                "Boolean" => Value::Bool(false),
                "DateTime" => Value::from("1970-01-01T00:00:00.000Z"),
                _ => Value::from(""),
            }),
        },
    }
}

/// A concrete type for an abstract one: the first union member or implementing object.
pub(crate) fn first_concrete(schema: &Valid<Schema>, name: &str) -> Option<String> {
    match schema.types.get(name)? {
        ExtendedType::Union(union) => union.members.iter().next().map(|m| m.name.to_string()),
        ExtendedType::Interface(_) => schema
            .implementers_map()
            .get(name)
            .and_then(|i| i.objects.iter().next().map(|o| o.to_string())),
        ExtendedType::Object(_) => Some(name.to_owned()),
        _ => None,
    }
}

/// Whether `member` may be returned where `abstract_type` is expected.
pub(crate) fn is_member(schema: &Valid<Schema>, abstract_type: &str, member: &str) -> bool {
    match schema.types.get(abstract_type) {
        Some(ExtendedType::Union(union)) => union.members.iter().any(|m| m.name == member),
        Some(_) => schema.is_subtype(abstract_type, member),
        None => false,
    }
}
