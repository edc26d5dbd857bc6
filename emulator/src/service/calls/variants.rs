//! `POST /titles/{titleId}/variants` (contract 1, discovery host): the title's game variants,
//! variant schemas and GSI sets, from the configurable catalogue.

use serde_json::{Map, Value};

use super::{object, optional_count, optional_flag, optional_str};
use crate::http::{Request, Response};
use crate::json::Json;
use crate::service::Service;
use crate::{GameVariant, GsiSet, VariantCatalogue, VariantSchema};

/// What a variants request asks for (the fields the answer depends on).
#[derive(Debug, Default, PartialEq)]
struct Filter {
    /// At most this many variants (absent or 0: all).
    max_variants: Option<u64>,
    publisher_only: bool,
}

fn parse_body(body: &[u8]) -> Result<Filter, String> {
    let obj = object(body)?;
    optional_str(&obj, "locale")?;
    optional_count(&obj, "maxAllowedPlayers", 0)?;
    let max_variants = optional_count(&obj, "maxVariants", 0)?.filter(|&n| n > 0);
    let publisher_only = optional_flag(&obj, "publisherOnly")?;
    match obj.get("tags") {
        None | Some(Value::Null) => {}
        Some(Value::Array(tags)) => {
            for (i, tag) in tags.iter().enumerate() {
                let ok = tag.as_object().is_some_and(|t| {
                    t.get("name").is_some_and(Value::is_string) && t.get("value").is_some_and(Value::is_string)
                });
                if !ok {
                    return Err(format!("tags[{i}] must be {{\"name\": string, \"value\": string}}"));
                }
            }
        }
        Some(_) => return Err("tags must be an array".into()),
    }
    Ok(Filter { max_variants, publisher_only })
}

pub(crate) fn handle(svc: &Service, req: &Request) -> Result<Json, Response> {
    let filter = parse_body(&req.body).map_err(|m| svc.err(400, &m))?;
    let catalogue = svc.lock().variants.clone();
    Ok(answer(&catalogue, &filter))
}

fn answer(cat: &VariantCatalogue, filter: &Filter) -> Json {
    let mut variants: Vec<&GameVariant> =
        cat.variants.iter().filter(|v| v.is_publisher || !filter.publisher_only).collect();
    if let Some(n) = filter.max_variants {
        variants.truncate(n.min(usize::MAX as u64) as usize);
    }
    catalogue_json(variants.into_iter(), cat)
}

/// The catalogue in wire form: counts and ranks as strings, isPublisher "True"/"False", the
/// variant id under `gamevariantId` (as XSAPI read it).
pub(crate) fn catalogue_json<'a>(variants: impl Iterator<Item = &'a GameVariant>, cat: &VariantCatalogue) -> Json {
    let variants = variants
        .map(|v| {
            Json::obj()
                .with("gamevariantId", &v.id)
                .with("name", &v.name)
                .with("isPublisher", if v.is_publisher { "True" } else { "False" })
                .with("rank", v.rank.to_string())
                .with("gameVariantSchemaId", &v.schema_id)
        })
        .collect();
    let schemas = cat
        .schemas
        .iter()
        .map(|s| Json::obj().with("variantSchemaId", &s.id).with("name", &s.name).with("schemaContent", &s.content))
        .collect();
    let gsi_sets = cat
        .gsi_sets
        .iter()
        .map(|g| {
            let tags = g.tags.iter().map(|(n, v)| Json::obj().with("name", n).with("value", v)).collect();
            Json::obj()
                .with("gsiSetId", &g.id)
                .with("gsiSetName", &g.name)
                .with("minRequiredPlayers", g.min_required_players.to_string())
                .with("maxAllowedPlayers", g.max_allowed_players.to_string())
                .with("selectionOrder", g.selection_order.to_string())
                .with("variantSchemaId", &g.schema_id)
                .with("tags", Json::Arr(tags))
        })
        .collect();
    Json::obj()
        .with("variants", Json::Arr(variants))
        .with("variantSchemas", Json::Arr(schemas))
        .with("gsiSets", Json::Arr(gsi_sets))
}

/// A catalogue in the answer's form (admin `PUT /_emulator/variants`, `--variants FILE`).
/// Accepts what a client must accept: `variantId` for `gamevariantId`, booleans or strings for
/// `isPublisher`, numbers or numeric strings for ranks and counts. Missing arrays are empty.
pub(crate) fn parse_catalogue(body: &[u8]) -> Result<VariantCatalogue, String> {
    let obj = object(body).map_err(|e| format!("variants catalogue: {e}"))?;
    let items = |key: &str| -> Result<Vec<Map<String, Value>>, String> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, v)| v.as_object().cloned().ok_or_else(|| format!("{key}[{i}] must be an object")))
                .collect(),
            Some(_) => Err(format!("{key} must be an array")),
        }
    };
    let text = |o: &Map<String, Value>, at: &str, keys: &[&str]| -> Result<String, String> {
        for k in keys {
            match o.get(*k) {
                Some(Value::String(s)) => return Ok(s.clone()),
                Some(Value::Null) | None => continue,
                Some(_) => return Err(format!("{at}.{k} must be a string")),
            }
        }
        Err(format!("{at}: missing {}", keys[0]))
    };
    let number = |o: &Map<String, Value>, at: &str, key: &str| -> Result<u64, String> {
        match o.get(key) {
            None | Some(Value::Null) => Ok(0),
            Some(Value::Number(n)) => n.as_u64().ok_or_else(|| format!("{at}.{key} must be a whole number")),
            Some(Value::String(s)) => s.trim().parse().map_err(|_| format!("{at}.{key} must be a whole number")),
            Some(_) => Err(format!("{at}.{key} must be a number")),
        }
    };
    let mut cat = VariantCatalogue::default();
    for (i, v) in items("variants")?.iter().enumerate() {
        let at = format!("variants[{i}]");
        let is_publisher = match v.get("isPublisher") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
            Some(_) => return Err(format!("{at}.isPublisher must be true or false")),
        };
        cat.variants.push(GameVariant {
            id: text(v, &at, &["gamevariantId", "variantId"])?,
            name: text(v, &at, &["name"])?,
            is_publisher,
            rank: number(v, &at, "rank")?,
            schema_id: text(v, &at, &["gameVariantSchemaId"]).unwrap_or_default(),
        });
    }
    for (i, s) in items("variantSchemas")?.iter().enumerate() {
        let at = format!("variantSchemas[{i}]");
        cat.schemas.push(VariantSchema {
            id: text(s, &at, &["variantSchemaId"])?,
            name: text(s, &at, &["name"])?,
            content: text(s, &at, &["schemaContent"]).unwrap_or_default(),
        });
    }
    for (i, g) in items("gsiSets")?.iter().enumerate() {
        let at = format!("gsiSets[{i}]");
        let mut tags = Vec::new();
        match g.get("tags") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                for (j, t) in a.iter().enumerate() {
                    let tat = format!("{at}.tags[{j}]");
                    let t = t.as_object().ok_or_else(|| format!("{tat} must be an object"))?;
                    tags.push((text(t, &tat, &["name"])?, text(t, &tat, &["value"])?));
                }
            }
            Some(_) => return Err(format!("{at}.tags must be an array")),
        }
        cat.gsi_sets.push(GsiSet {
            id: text(g, &at, &["gsiSetId"])?,
            name: text(g, &at, &["gsiSetName"])?,
            min_required_players: number(g, &at, "minRequiredPlayers")?,
            max_allowed_players: number(g, &at, "maxAllowedPlayers")?,
            selection_order: number(g, &at, "selectionOrder")?,
            schema_id: text(g, &at, &["variantSchemaId"]).unwrap_or_default(),
            tags,
        });
    }
    Ok(cat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests() {
        let parse = |v: Value| parse_body(v.to_string().as_bytes());
        let full = json!({"locale": "en-us", "maxAllowedPlayers": 8, "maxVariants": 2, "publisherOnly": true,
                          "tags": [{"name": "mode", "value": "ranked"}]});
        assert_eq!(parse(full), Ok(Filter { max_variants: Some(2), publisher_only: true }));
        assert_eq!(parse(json!({"maxVariants": 0})), Ok(Filter::default()));
        assert!(parse(json!({"locale": 5})).unwrap_err().contains("locale"));
        assert!(parse(json!({"maxVariants": "2"})).unwrap_err().contains("maxVariants"));
        assert!(parse(json!({"maxAllowedPlayers": -1})).unwrap_err().contains("maxAllowedPlayers"));
        assert!(parse(json!({"publisherOnly": 1})).unwrap_err().contains("publisherOnly"));
        assert!(parse(json!({"tags": {}})).unwrap_err().contains("tags"));
        assert!(parse(json!({"tags": [{"name": "x"}]})).unwrap_err().contains("tags[0]"));
    }

    #[test]
    fn filters_and_round_trip() {
        let cat = VariantCatalogue::sample();
        let all = answer(&cat, &Filter::default()).to_value();
        assert_eq!(all["variants"].as_array().unwrap().len(), 3);
        assert_eq!(all["variants"][0]["isPublisher"], "True");
        assert_eq!(all["variants"][0]["rank"], "1");
        let publisher = answer(&cat, &Filter { publisher_only: true, ..Filter::default() }).to_value();
        assert!(publisher["variants"].as_array().unwrap().iter().all(|v| v["isPublisher"] == "True"));
        assert_eq!(publisher["variants"].as_array().unwrap().len(), 2);
        let one = answer(&cat, &Filter { max_variants: Some(1), ..Filter::default() }).to_value();
        assert_eq!(one["variants"].as_array().unwrap().len(), 1);
        assert_eq!(one["gsiSets"].as_array().unwrap().len(), 2);
        // The answer's form reads back as the same catalogue.
        assert_eq!(parse_catalogue(&catalogue_json(cat.variants.iter(), &cat).to_bytes()).unwrap(), cat);
        // Tolerant forms.
        let alt = json!({"variants": [{"variantId": "v", "name": "n", "isPublisher": true, "rank": 4}],
                         "gsiSets": [{"gsiSetId": "g", "gsiSetName": "G", "minRequiredPlayers": "2", "tags": []}]});
        let c = parse_catalogue(alt.to_string().as_bytes()).unwrap();
        assert_eq!((c.variants[0].id.as_str(), c.variants[0].is_publisher, c.variants[0].rank), ("v", true, 4));
        assert_eq!(c.gsi_sets[0].min_required_players, 2);
        assert!(parse_catalogue(br#"{"variants":[{"name":"n"}]}"#).unwrap_err().contains("gamevariantId"));
        assert!(parse_catalogue(br#"{"gsiSets":[{"gsiSetId":"g","gsiSetName":"G","selectionOrder":"x"}]}"#)
            .unwrap_err()
            .contains("selectionOrder"));
    }
}
