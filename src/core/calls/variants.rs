//! `POST /titles/{titleId}/variants` (contract 1, discovery host): the title's game variants,
//! variant schemas and server image (GSI) sets.

use serde::{Deserialize, Serialize};

use crate::core::call::{self, Decode, Once};
use crate::core::error::InvalidArgument;
use crate::core::exchange::{CallInfo, Endpoint, Host};
use crate::core::validate;
use crate::core::wire;

/// The request (the Rust side of `gsms_variants_request`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantsRequest {
    #[serde(skip)]
    pub title_id: u32,
    pub locale: String,
    pub max_allowed_players: u32,
    pub max_variants: u32,
    pub publisher_only: bool,
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    #[serde(deserialize_with = "wire::text")]
    pub name: String,
    #[serde(deserialize_with = "wire::text")]
    pub value: String,
}

impl VariantsRequest {
    /// Defaults: locale "en-us", no player or variant limit (0), all variants, no tags.
    pub fn new(title_id: u32) -> Self {
        VariantsRequest {
            title_id,
            locale: "en-us".into(),
            max_allowed_players: 0,
            max_variants: 0,
            publisher_only: false,
            tags: Vec::new(),
        }
    }

    pub fn set_locale(&mut self, locale: &str) -> Result<(), InvalidArgument> {
        validate::field("locale", locale)?;
        self.locale = locale.to_string();
        Ok(())
    }

    pub fn add_tag(&mut self, name: &str, value: &str) -> Result<(), InvalidArgument> {
        validate::field("tag name", name)?;
        if value.chars().any(char::is_control) {
            return Err(InvalidArgument("tag value must not contain control characters".into()));
        }
        self.tags.push(Tag { name: name.to_string(), value: value.to_string() });
        Ok(())
    }

    pub fn endpoint(&self) -> Endpoint {
        let body = serde_json::to_vec(self).expect("a request serializes");
        Endpoint::post(Host::Discovery, format!("/titles/{}/variants", self.title_id), "1", body)
    }
}

/// A game variant (game mode).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Variant {
    /// `gamevariantId` (XSAPI) or `variantId` (the reference page's sample).
    #[serde(
        rename = "gamevariantId",
        alias = "variantId",
        alias = "gameVariantId",
        deserialize_with = "wire::id_text"
    )]
    pub id: String,
    #[serde(deserialize_with = "wire::text")]
    pub name: String,
    #[serde(rename = "isPublisher", deserialize_with = "wire::flag")]
    pub is_publisher: bool,
    #[serde(deserialize_with = "wire::number_u64")]
    pub rank: u64,
    #[serde(rename = "gameVariantSchemaId", deserialize_with = "wire::id_text")]
    pub schema_id: String,
}

/// A variant schema (an XML document as a string).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Schema {
    #[serde(rename = "variantSchemaId", deserialize_with = "wire::id_text")]
    pub id: String,
    #[serde(deserialize_with = "wire::text")]
    pub name: String,
    #[serde(rename = "schemaContent", deserialize_with = "wire::text")]
    pub content: String,
}

/// A game server image set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct GsiSet {
    #[serde(rename = "gsiSetId", deserialize_with = "wire::id_text")]
    pub id: String,
    #[serde(rename = "gsiSetName", deserialize_with = "wire::text")]
    pub name: String,
    #[serde(rename = "minRequiredPlayers", deserialize_with = "wire::number_u64")]
    pub min_players: u64,
    #[serde(rename = "maxAllowedPlayers", deserialize_with = "wire::number_u64")]
    pub max_players: u64,
    #[serde(rename = "selectionOrder", deserialize_with = "wire::number_u64")]
    pub selection_order: u64,
    #[serde(rename = "variantSchemaId", deserialize_with = "wire::id_text")]
    pub schema_id: String,
    #[serde(deserialize_with = "wire::list")]
    pub tags: Vec<Tag>,
}

/// The answer (the Rust side of `gsms_variants_result`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct VariantsResult {
    #[serde(skip)]
    pub info: CallInfo,
    #[serde(deserialize_with = "wire::list")]
    pub variants: Vec<Variant>,
    #[serde(rename = "variantSchemas", deserialize_with = "wire::list")]
    pub schemas: Vec<Schema>,
    #[serde(rename = "gsiSets", deserialize_with = "wire::list")]
    pub gsi_sets: Vec<GsiSet>,
}
crate::impl_has_info!(VariantsResult);

impl Decode for VariantsResult {
    fn decode(body: &[u8]) -> Result<Self, String> {
        call::decode_json(body)
    }
}

pub type GetVariants = Once<VariantsResult>;

pub fn get_variants(req: &VariantsRequest) -> GetVariants {
    Once::new(req.endpoint())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_has_every_field_and_tags_default_to_empty() {
        let mut r = VariantsRequest::new(3);
        let v: serde_json::Value = serde_json::from_slice(r.endpoint().body.as_deref().unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"locale":"en-us","maxAllowedPlayers":0,"maxVariants":0,"publisherOnly":false,"tags":[]})
        );
        r.add_tag("mode", "ranked").unwrap();
        r.publisher_only = true;
        let ep = r.endpoint();
        assert_eq!((ep.host, ep.path.as_str(), ep.contract), (Host::Discovery, "/titles/3/variants", "1"));
        let v: serde_json::Value = serde_json::from_slice(ep.body.as_deref().unwrap()).unwrap();
        assert_eq!(v["tags"], serde_json::json!([{"name":"mode","value":"ranked"}]));
        assert!(r.add_tag("", "x").is_err());
        assert!(r.set_locale("").is_err());
    }

    #[test]
    fn answers_accept_both_id_keys_string_flags_and_bad_numbers() {
        let v = VariantsResult::decode(
            br#"{"variants":[{"gamevariantId":"a","name":"A","isPublisher":"True","rank":"3","gameVariantSchemaId":"s"},
                             {"variantId":"b","isPublisher":false,"rank":"many"}, 7],
                 "variantSchemas":[{"variantSchemaId":"s","name":"S","schemaContent":"<x/>"}],
                 "gsiSets":[{"gsiSetId":"g","gsiSetName":"G","minRequiredPlayers":"2","maxAllowedPlayers":16,
                             "selectionOrder":"1e400","variantSchemaId":"s","tags":[{"name":"n","value":"v"}]}]}"#,
        )
        .unwrap();
        assert_eq!(v.variants.len(), 2, "a non-object entry is skipped");
        assert_eq!((v.variants[0].id.as_str(), v.variants[0].is_publisher, v.variants[0].rank), ("a", true, 3));
        assert_eq!((v.variants[1].id.as_str(), v.variants[1].is_publisher, v.variants[1].rank), ("b", false, 0));
        assert_eq!(v.schemas[0].content, "<x/>");
        let g = &v.gsi_sets[0];
        assert_eq!((g.min_players, g.max_players, g.selection_order), (2, 16, 0));
        assert_eq!(g.tags, vec![Tag { name: "n".into(), value: "v".into() }]);
        assert!(VariantsResult::decode(b"{}").unwrap().variants.is_empty());
        assert!(VariantsResult::decode(br#"{"variants":{"a":1}}"#).unwrap().variants.is_empty());
    }
}
