//! The cluster request (the Rust side of `gsms_cluster_request`).

use super::error::InvalidArgument;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterRequest {
    pub title_id: u32,
    pub session_id: String,
    pub abort_if_queued: bool,
}

fn segment(what: &str, v: &str) -> Result<(), InvalidArgument> {
    if v.is_empty() {
        return Err(InvalidArgument(format!("{what} must not be empty")));
    }
    if v.contains('/') || v.chars().any(char::is_control) {
        return Err(InvalidArgument(format!("{what} must not contain '/' or control characters")));
    }
    Ok(())
}

impl ClusterRequest {
    pub fn new(title_id: u32) -> Self {
        ClusterRequest { title_id, ..Default::default() }
    }

    pub fn set_session_id(&mut self, session_id: &str) -> Result<(), InvalidArgument> {
        if session_id.is_empty() {
            return Err(InvalidArgument("session id must not be empty".into()));
        }
        if session_id.chars().any(char::is_control) {
            return Err(InvalidArgument("session id must not contain control characters".into()));
        }
        self.session_id = session_id.to_string();
        Ok(())
    }

    /// Builds `/serviceconfigs/<scid>/sessionTemplates/<template>/sessions/<name>` (XSAPI's spelling).
    pub fn set_session(&mut self, scid: &str, template: &str, name: &str) -> Result<(), InvalidArgument> {
        segment("scid", scid)?;
        segment("session template name", template)?;
        segment("session name", name)?;
        self.session_id = format!("/serviceconfigs/{scid}/sessionTemplates/{template}/sessions/{name}");
        Ok(())
    }

    /// Checks that the request can be sent.
    pub fn validate(&self) -> Result<(), InvalidArgument> {
        if self.session_id.is_empty() {
            return Err(InvalidArgument(
                "the request has no session id: call gsms_cluster_request_set_session_id or _set_session".into(),
            ));
        }
        Ok(())
    }

    pub fn path(&self) -> String {
        format!("/titles/{}/clusters", self.title_id)
    }

    /// `{"sessionId":"...","abortIfQueued":true}`; abortIfQueued is left out unless set (as XSAPI does).
    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.session_id.len() + 48);
        out.extend_from_slice(b"{\"sessionId\":");
        serde_json::to_writer(&mut out, &self.session_id).expect("writing a string to a Vec cannot fail");
        if self.abort_if_queued {
            out.extend_from_slice(b",\"abortIfQueued\":true");
        }
        out.push(b'}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_escapes_and_leaves_out_abort_flag_unless_set() {
        let mut r = ClusterRequest::new(7);
        r.set_session_id("/serviceconfigs/a/sessionTemplates/q/sessions/\"x\"").unwrap();
        assert_eq!(
            String::from_utf8(r.body()).unwrap(),
            r#"{"sessionId":"/serviceconfigs/a/sessionTemplates/q/sessions/\"x\""}"#
        );
        r.abort_if_queued = true;
        let v: serde_json::Value = serde_json::from_slice(&r.body()).unwrap();
        assert_eq!(v["abortIfQueued"], serde_json::Value::Bool(true));
        assert_eq!(r.path(), "/titles/7/clusters");
    }

    #[test]
    fn session_parts_are_checked() {
        let mut r = ClusterRequest::new(1);
        r.set_session("scid", "quick", "match1").unwrap();
        assert_eq!(r.session_id, "/serviceconfigs/scid/sessionTemplates/quick/sessions/match1");
        assert!(r.set_session("", "q", "n").is_err());
        assert!(r.set_session("a/b", "q", "n").is_err());
        assert!(r.set_session_id("").is_err());
        assert!(r.set_session_id("a\nb").is_err());
        assert!(ClusterRequest::new(1).validate().is_err());
    }
}
