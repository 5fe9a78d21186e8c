//! Tokio echo server for the W7 benchmark, on a current-thread runtime.
//!
//! Usage: tokio_echo echo|lines [PORT]
//!
//! Listens on 127.0.0.1:PORT (default 0: any free port), prints "PORT <n>" on stdout
//! and serves until killed. One spawned task per connection, TCP_NODELAY set (as
//! CPython and Go do by default).
//!   echo   each task loops read into a 64 KiB buffer / write_all of what came
//!   lines  each task loops BufReader::read_line / write_all (the idle connections of
//!          the memory measurement wait in read_line)

use std::io::Write;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

async fn echo(mut sock: TcpStream) {
    let mut buf = vec![0u8; 65536];
    loop {
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if sock.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn lines(sock: TcpStream) {
    let mut reader = BufReader::new(sock);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if reader.get_mut().write_all(line.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn usage() -> ! {
    eprintln!("usage: tokio_echo echo|lines [PORT]");
    std::process::exit(2);
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.len() < 2 || (argv[1] != "echo" && argv[1] != "lines") {
        usage();
    }
    let line_mode = argv[1] == "lines";
    let port: u16 = match argv.get(2) {
        Some(s) => s.parse().unwrap_or_else(|_| usage()),
        None => 0,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        println!("PORT {}", listener.local_addr().unwrap().port());
        std::io::stdout().flush().unwrap();
        loop {
            match listener.accept().await {
                Ok((sock, _)) => {
                    let _ = sock.set_nodelay(true);
                    if line_mode {
                        tokio::spawn(lines(sock));
                    } else {
                        tokio::spawn(echo(sock));
                    }
                }
                // EMFILE and the like: keep serving the connections already open.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(1)).await,
            }
        }
    });
}
