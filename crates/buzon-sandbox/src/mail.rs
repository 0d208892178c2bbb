//! A mail sink for the demo: a minimal SMTP server on loopback that accepts every mail and
//! prints who it is for, its subject and its links, so that the demo's urgent alerts can be
//! seen without a mail server. It speaks just enough SMTP (RFC 5321) for a client that does
//! not need authentication or TLS: HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A running mail sink.
#[derive(Clone)]
pub struct MailSink {
    address: SocketAddr,
    received: Arc<Mutex<Vec<String>>>,
}

impl MailSink {
    /// Starts a sink on `address` (port 0: any free port); each mail it receives is printed
    /// to standard error with `label`.
    pub async fn start(address: SocketAddr, label: &'static str) -> std::io::Result<MailSink> {
        let listener = TcpListener::bind(address).await?;
        let sink = MailSink {
            address: listener.local_addr()?,
            received: Arc::default(),
        };
        let received = sink.received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let received = received.clone();
                tokio::spawn(async move {
                    if let Ok(Some(mail)) = session(stream).await {
                        eprintln!("{label}: {}", summary(&mail));
                        received.lock().expect("the sink lock").push(mail);
                    }
                });
            }
        });
        Ok(sink)
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Every mail received so far, as sent (headers and body).
    pub fn received(&self) -> Vec<String> {
        self.received.lock().expect("the sink lock").clone()
    }
}

/// One SMTP session; returns the last mail's data.
async fn session(stream: tokio::net::TcpStream) -> std::io::Result<Option<String>> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 buzon demo mail sink\r\n").await?;
    let mut mail = None;
    while let Some(line) = lines.next_line().await? {
        let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" => write.write_all(b"250 buzon-demo\r\n").await?,
            "MAIL" | "RCPT" | "RSET" | "NOOP" => write.write_all(b"250 OK\r\n").await?,
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = String::new();
                while let Some(line) = lines.next_line().await? {
                    if line == "." {
                        break;
                    }
                    // Dot-stuffing (RFC 5321 4.5.2).
                    data.push_str(
                        line.strip_prefix('.')
                            .filter(|_| line.starts_with(".."))
                            .unwrap_or(&line),
                    );
                    data.push('\n');
                    if data.len() > 1_000_000 {
                        break;
                    }
                }
                mail = Some(data);
                write.write_all(b"250 OK: queued\r\n").await?;
            }
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                break;
            }
            _ => write.write_all(b"502 Command not implemented\r\n").await?,
        }
    }
    Ok(mail)
}

/// "to …, subject …, link …" of a mail.
fn summary(mail: &str) -> String {
    let header = |name: &str| {
        mail.lines()
            .find(|line| line.to_lowercase().starts_with(&format!("{name}:")))
            .map(|line| line[name.len() + 1..].trim().to_owned())
            .unwrap_or_default()
    };
    let link = mail
        .lines()
        .find(|line| line.contains("/conversations/"))
        .unwrap_or_default()
        .trim();
    format!(
        "mail to {} — {} — {}",
        header("to"),
        header("subject"),
        link
    )
}
