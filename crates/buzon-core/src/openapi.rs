//! OpenAPI schemas of JSON documents that are another document plus a few fields (an input
//! as read back with its id, say). A flattened field would give `allOf`, which an input that
//! refuses unknown fields (`additionalProperties: false`) turns into a schema nothing
//! matches; these copy the base's properties instead.

use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;

/// `base` (an object schema) with `fields` added as required properties (optional ones when
/// their schema allows null), and unknown properties no longer refused.
pub fn with_fields(base: RefOr<Schema>, fields: Vec<(&str, RefOr<Schema>, bool)>) -> RefOr<Schema> {
    let mut object = match base {
        RefOr::T(Schema::Object(object)) => object,
        other => return other,
    };
    object.additional_properties = None;
    for (name, schema, required) in fields {
        object.properties.insert(name.to_owned(), schema);
        if required {
            object.required.push(name.to_owned());
        }
    }
    RefOr::T(Schema::Object(object))
}

/// Implements `utoipa::ToSchema` for `$name`, whose JSON is `$base`'s plus the listed fields
/// (an `Option` field is not required).
#[macro_export]
macro_rules! schema_with_fields {
    ($name:ident : $base:ty, { $($(#[$doc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::openapi::with_fields(
                    <$base as utoipa::PartialSchema>::schema(),
                    vec![$((
                        stringify!($field),
                        <$ty as utoipa::PartialSchema>::schema(),
                        !stringify!($ty).starts_with("Option"),
                    )),*],
                )
            }
        }

        impl utoipa::ToSchema for $name {
            fn schemas(
                schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
            ) {
                <$base as utoipa::ToSchema>::schemas(schemas);
            }
        }
    };
}
