//! A small Server-Sent Events parser: bytes in, events out, whatever the TCP read boundaries.
//!
//! Follows the WHATWG event-stream rules that chat-completions servers rely on: lines end in
//! LF, CR LF or CR; `data:` lines accumulate (joined by LF) until a blank line dispatches them;
//! lines starting with `:` are comments (keep-alives); `id:` and `retry:` are ignored.

use std::collections::VecDeque;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` field; `None` means the default "message" type.
    pub event: Option<String>,
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the event stream is not valid UTF-8")]
pub(crate) struct InvalidUtf8;

#[derive(Debug, Default)]
pub(crate) struct SseParser {
    /// Bytes of the line being received (no terminator yet).
    line: Vec<u8>,
    /// A CR ended the last line; an LF right after it belongs to the same terminator.
    after_cr: bool,
    data: String,
    has_data: bool,
    event: Option<String>,
}

impl SseParser {
    /// Feeds the next bytes; complete events are appended to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut VecDeque<SseEvent>) -> Result<(), InvalidUtf8> {
        let mut rest = bytes;
        if self.after_cr && rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
        self.after_cr = false;
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&rest[..end]);
            let line = std::mem::take(&mut self.line);
            self.take_line(&line, out)?;
            let crlf = rest[end] == b'\r';
            rest = &rest[end + 1..];
            if crlf {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        self.line.extend_from_slice(rest);
        Ok(())
    }

    /// At the end of the stream: dispatches data gathered from complete lines even when the
    /// closing blank line never came (some servers omit it), and drops an unfinished line,
    /// which can only be a truncated one.
    pub fn finish(&mut self) -> Option<SseEvent> {
        self.line.clear();
        self.dispatch()
    }

    fn take_line(&mut self, line: &[u8], out: &mut VecDeque<SseEvent>) -> Result<(), InvalidUtf8> {
        // Terminators are ASCII, so a line never splits a multi-byte character.
        let line = std::str::from_utf8(line).map_err(|_| InvalidUtf8)?;
        if line.is_empty() {
            out.extend(self.dispatch());
            return Ok(());
        }
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        Some(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(pieces: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::default();
        let mut out = VecDeque::new();
        for piece in pieces {
            parser.push(piece, &mut out).unwrap();
        }
        out.extend(parser.finish());
        out.into_iter().collect()
    }

    fn data(text: &str) -> SseEvent {
        SseEvent {
            event: None,
            data: text.to_owned(),
        }
    }

    #[test]
    fn parses_data_lines_comments_and_done() {
        let stream = b": keep-alive\n\ndata: {\"a\":1}\n\ndata:{\"b\":2}\nid: 7\nretry: 10\n\ndata: [DONE]\n\n";
        assert_eq!(
            parse_in_pieces(&[stream]),
            vec![data("{\"a\":1}"), data("{\"b\":2}"), data("[DONE]")]
        );
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let stream = "data: {\"content\":\"ação é coração\"}\r\n\r\n: ping\r\ndata: x\rdata: y\r\rdata: [DONE]\n\n";
        let bytes = stream.as_bytes();
        let whole = parse_in_pieces(&[bytes]);
        assert_eq!(
            whole,
            vec![
                data("{\"content\":\"ação é coração\"}"),
                data("x\ny"),
                data("[DONE]")
            ]
        );
        for i in 0..=bytes.len() {
            for j in i..=bytes.len() {
                let pieces = [&bytes[..i], &bytes[i..j], &bytes[j..]];
                assert_eq!(parse_in_pieces(&pieces), whole, "split at {i} and {j}");
            }
        }
    }

    #[test]
    fn byte_at_a_time_works() {
        let bytes = b"data: one\n\ndata: two\n\n";
        let pieces: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(parse_in_pieces(&pieces), vec![data("one"), data("two")]);
    }

    #[test]
    fn event_names_are_kept() {
        let events = parse_in_pieces(&[b"event: error\ndata: {\"error\":{}}\n\n"]);
        assert_eq!(events[0].event.as_deref(), Some("error"));
    }

    #[test]
    fn end_of_stream_keeps_complete_lines_and_drops_a_truncated_one() {
        assert_eq!(parse_in_pieces(&[b"data: [DONE]\n"]), vec![data("[DONE]")]);
        assert_eq!(parse_in_pieces(&[b"data: {\"trunc"]), vec![]);
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let mut out = VecDeque::new();
        assert_eq!(
            SseParser::default().push(b"data: \xff\n", &mut out),
            Err(InvalidUtf8)
        );
    }
}
