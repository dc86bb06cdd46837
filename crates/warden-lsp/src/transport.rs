//! The stdio transport in front of tower-lsp-server. Its reader stops for
//! good at the first message it cannot decode (not JSON, not a JSON-RPC
//! message, a header without `Content-Length`), and the server with it: one
//! stray byte from a client would end the editing session. So every frame
//! is read and checked here first. A good one is passed on as it came; a
//! bad one is answered with the JSON-RPC error for it (`-32700` parse
//! error, `-32600` invalid request, id `null`) and dropped, and the server
//! reads on. Answers reach stdout a whole frame at a time, whoever wrote
//! them.

use serde_json::json;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Request, Response};

/// The longest message read; a longer one is skipped and refused, never held.
pub(crate) const MAX_MESSAGE_BYTES: usize = 64 << 20;
/// The longest header line.
const MAX_HEADER_LINE: u64 = 8 << 10;

/// One frame read from a stream.
enum Frame {
    /// Its body.
    Body(Vec<u8>),
    /// Why it cannot be read as a message, and the JSON-RPC code for that.
    Refused(i64, String),
}

/// Reads the next frame; `None` at the end of the stream.
async fn read_frame<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    limit: usize,
) -> std::io::Result<Option<Frame>> {
    let mut length: Option<Result<usize, String>> = None;
    let mut line = Vec::new();
    let mut started = false;
    loop {
        line.clear();
        let read = (&mut *reader)
            .take(MAX_HEADER_LINE)
            .read_until(b'\n', &mut line)
            .await?;
        if read == 0 {
            return Ok(
                started.then(|| Frame::Refused(-32700, "the stream ended in a header".into()))
            );
        }
        if !line.ends_with(b"\n") && read as u64 == MAX_HEADER_LINE {
            // Skip the rest of an overlong line; the headers go on after it.
            while !line.ends_with(b"\n") {
                line.clear();
                if (&mut *reader)
                    .take(MAX_HEADER_LINE)
                    .read_until(b'\n', &mut line)
                    .await?
                    == 0
                {
                    return Ok(None);
                }
            }
            // A header nobody reads; the length, if given, stands.
            started = true;
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if started {
                break;
            }
            // Blank lines between messages are tolerated.
            continue;
        }
        started = true;
        // Found anywhere in the line, as tower-lsp-server does: after a
        // body whose length was not known, the next header starts mid-line.
        let at = text.to_ascii_lowercase().find("content-length");
        if let Some((_, value)) = at.and_then(|at| text[at..].split_once(':')) {
            length = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("`Content-Length: {}` is not a length", value.trim())),
            );
        }
    }
    let length = match length {
        None => {
            return Ok(Some(Frame::Refused(
                -32700,
                "a message without `Content-Length`".into(),
            )));
        }
        Some(Err(why)) => return Ok(Some(Frame::Refused(-32700, why))),
        Some(Ok(length)) => length,
    };
    if length > limit {
        tokio::io::copy(
            &mut (&mut *reader).take(length as u64),
            &mut tokio::io::sink(),
        )
        .await?;
        return Ok(Some(Frame::Refused(
            -32700,
            format!("a message of {length} bytes; at most {limit} are read"),
        )));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some(Frame::Body(body)))
}

/// Why `body` is not a message tower-lsp-server can take, if it is not.
fn refusal(body: &[u8]) -> Option<(i64, String)> {
    if serde_json::from_slice::<Request>(body).is_ok()
        || serde_json::from_slice::<Response>(body).is_ok()
    {
        return None;
    }
    Some(match serde_json::from_slice::<serde_json::Value>(body) {
        Err(e) => (-32700, format!("the message is not JSON: {e}")),
        Ok(_) => (
            -32600,
            "the message is not a JSON-RPC request, notification or response".into(),
        ),
    })
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Passes the client's good messages on to the server, and answers each
/// bad one through `to_client`. Ends with the client's stream (or the
/// server's).
pub(crate) async fn forward_input(
    client: impl AsyncRead + Unpin,
    mut server: impl AsyncWrite + Unpin,
    to_client: mpsc::Sender<Vec<u8>>,
) {
    let mut client = BufReader::new(client);
    loop {
        let frame = match read_frame(&mut client, MAX_MESSAGE_BYTES).await {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(e) => {
                tracing::error!("reading from the client: {e}");
                return;
            }
        };
        let refused = match frame {
            Frame::Body(body) => match refusal(&body) {
                None => {
                    if server.write_all(&framed(&body)).await.is_err() {
                        return;
                    }
                    continue;
                }
                Some(refused) => refused,
            },
            Frame::Refused(code, why) => (code, why),
        };
        let (code, why) = refused;
        tracing::warn!("refused a message from the client: {why}");
        let answer = json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": why}});
        if to_client
            .send(framed(answer.to_string().as_bytes()))
            .await
            .is_err()
        {
            return;
        }
    }
}

/// Reads the server's messages a whole frame at a time and sends each on
/// `to_client`. Ends with the server's stream.
pub(crate) async fn forward_server(
    server: impl AsyncRead + Unpin,
    to_client: mpsc::Sender<Vec<u8>>,
) {
    let mut server = BufReader::new(server);
    loop {
        match read_frame(&mut server, usize::MAX).await {
            Ok(Some(Frame::Body(body))) => {
                if to_client.send(framed(&body)).await.is_err() {
                    return;
                }
            }
            Ok(Some(Frame::Refused(_, why))) => {
                tracing::error!("the server wrote a bad frame: {why}");
            }
            Ok(None) | Err(_) => return,
        }
    }
}

/// Writes every frame sent to it (the server's answers and the refusals,
/// each whole, in the order they came) to the client. One channel, read
/// by this one loop: no frame is half read when another is written. Ends
/// when every sender is gone.
pub(crate) async fn write_client(
    mut frames: mpsc::Receiver<Vec<u8>>,
    mut client: impl AsyncWrite + Unpin,
) {
    while let Some(bytes) = frames.recv().await {
        if client.write_all(&bytes).await.is_err() || client.flush().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8]) -> Vec<Result<String, i64>> {
        let mut reader = BufReader::new(input);
        let mut out = Vec::new();
        while let Some(frame) = read_frame(&mut reader, 64).await.unwrap() {
            out.push(match frame {
                Frame::Body(body) => Ok(String::from_utf8(body).unwrap()),
                Frame::Refused(code, _) => Err(code),
            });
        }
        out
    }

    #[tokio::test]
    async fn frames_are_read_past_every_kind_of_bad_header() {
        let input = b"Content-Length: 2\r\n\r\n{}\
            X-Other: 1\r\n\r\n\
            Content-Length: -3\r\n\r\n\
            Content-Length: 100\r\n\r\n0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\
            content-length: 3\r\nContent-Type: application/vscode-jsonrpc; charset=latin1\r\n\r\n[1]\
            Content-Length: x\r\n\r\n{}Content-Length: 1\r\n\r\n1";
        assert_eq!(
            frames(input).await,
            vec![
                Ok("{}".into()),
                Err(-32700),
                Err(-32700),
                Err(-32700),
                Ok("[1]".into()),
                Err(-32700),
                Ok("1".into())
            ]
        );
    }

    #[tokio::test]
    async fn a_long_header_line_costs_no_frame_its_length() {
        let mut input = b"Content-Length: 2\r\nX-Long: ".to_vec();
        input.extend(std::iter::repeat_n(b'x', 9_000));
        input.extend_from_slice(b"\r\n\r\n{}Content-Length: 1\r\n\r\n1");
        assert_eq!(frames(&input).await, vec![Ok("{}".into()), Ok("1".into())]);
    }

    #[test]
    fn bodies_that_are_not_messages_are_refused_with_their_code() {
        let code = |body: &str| refusal(body.as_bytes()).map(|(code, _)| code);
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#),
            None
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#),
            None
        );
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"result":null}"#), None);
        assert_eq!(code("{abc}"), Some(-32700));
        assert_eq!(code("\u{fffd}"), Some(-32700));
        assert_eq!(code("[]"), Some(-32600));
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":{},"method":"x"}"#),
            Some(-32600)
        );
    }
}
