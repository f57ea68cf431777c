//! Assembly of a streamed completion: server-sent events whose `data` fields carry JSON
//! chunks with `choices[0].delta.content`, ended by `data: [DONE]`.

use serde::Deserialize;

/// One streamed chunk; only the fields the client reads.
#[derive(Debug, Deserialize)]
struct StreamChunk {
    #[serde(default)]
    choices: Vec<StreamChoice>,
}

#[derive(Debug, Deserialize)]
struct StreamChoice {
    #[serde(default)]
    delta: Option<StreamDelta>,
}

#[derive(Debug, Deserialize)]
struct StreamDelta {
    #[serde(default)]
    content: Option<String>,
}

/// A problem in the stream: the message and an excerpt of the offending event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct StreamProblem {
    pub(crate) message: String,
    pub(crate) event: String,
}

/// Feeds bytes of an event stream in and assembles the reply text.
#[derive(Debug, Default)]
pub(crate) struct StreamAssembler {
    /// Bytes after the last complete line.
    pending: Vec<u8>,
    /// The `data` lines of the event being read.
    data: Vec<String>,
    /// The reply so far.
    text: String,
    /// Whether any chunk had a choice.
    saw_choice: bool,
    /// Whether `[DONE]` arrived.
    done: bool,
}

impl StreamAssembler {
    /// Consumes a piece of the body, which may end mid-line or mid-character.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<(), StreamProblem> {
        self.pending.extend_from_slice(bytes);
        while let Some(end) = self.pending.iter().position(|&byte| byte == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            self.line(line.trim_end_matches(['\n', '\r']))?;
        }
        Ok(())
    }

    /// Ends the stream and returns the assembled text and whether any choice arrived.
    pub(crate) fn finish(mut self) -> Result<(String, bool), StreamProblem> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            let line = String::from_utf8_lossy(&rest).into_owned();
            self.line(line.trim_end_matches('\r'))?;
        }
        self.dispatch()?;
        Ok((self.text, self.saw_choice))
    }

    /// Handles one line without its line ending.
    fn line(&mut self, line: &str) -> Result<(), StreamProblem> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        if field == "data" {
            self.data.push(value.to_string());
        }
        Ok(())
    }

    /// Handles the event whose `data` lines were read.
    fn dispatch(&mut self) -> Result<(), StreamProblem> {
        if self.data.is_empty() {
            return Ok(());
        }
        let data = std::mem::take(&mut self.data).join("\n");
        if self.done {
            return Ok(());
        }
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let chunk: StreamChunk = serde_json::from_str(&data).map_err(|error| StreamProblem {
            message: format!("streamed event is not a JSON chunk: {error}"),
            event: data.clone(),
        })?;
        for choice in chunk.choices {
            self.saw_choice = true;
            if let Some(content) = choice.delta.and_then(|delta| delta.content) {
                self.text.push_str(&content);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &str) -> String {
        format!(
            "data: {}\n\n",
            serde_json::json!({"choices": [{"index": 0, "delta": {"content": text}}]})
        )
    }

    #[test]
    fn assembles_split_deltas() {
        let body = format!(
            ": keep-alive\n\n{}{}{}data: [DONE]\n\n",
            chunk("SELECT "),
            chunk("名前"),
            chunk(" FROM t")
        );
        let mut assembler = StreamAssembler::default();
        // Three-byte pieces split lines and the UTF-8 of the Chinese characters.
        for piece in body.as_bytes().chunks(3) {
            assembler.push(piece).expect("valid stream");
        }
        let (text, saw_choice) = assembler.finish().expect("valid stream");
        assert_eq!(text, "SELECT 名前 FROM t");
        assert!(saw_choice);
    }

    #[test]
    fn crlf_and_missing_done() {
        let body = chunk("a").replace('\n', "\r\n") + &chunk("b");
        let mut assembler = StreamAssembler::default();
        assembler.push(body.as_bytes()).expect("valid stream");
        assert_eq!(assembler.finish().expect("valid").0, "ab");
    }

    #[test]
    fn bad_chunk_is_reported() {
        let mut assembler = StreamAssembler::default();
        let problem = assembler
            .push(b"data: {not json}\n\n")
            .expect_err("not JSON");
        assert_eq!(problem.event, "{not json}");
    }

    #[test]
    fn no_choices_is_flagged() {
        let mut assembler = StreamAssembler::default();
        assembler
            .push(b"data: {\"choices\": []}\n\ndata: [DONE]\n\n")
            .expect("valid");
        assert!(!assembler.finish().expect("valid").1);
    }
}
