//! The local server, run as its own process with few file descriptors, survives running out of
//! them: accepting fails for a while, then it serves again.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

const SECRET: &str = "fd-limit-test";

#[test]
fn the_server_outlives_running_out_of_file_descriptors() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut server = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -n 64 && exec {}",
            env!("CARGO_BIN_EXE_local-api")
        ))
        .env("PORT", port.to_string())
        .env("JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .env_remove("DYNAMODB_ENDPOINT")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the local server");
    let mut banner = String::new();
    let mut stdout = BufReader::new(server.stdout.take().expect("stdout"));
    stdout.read_line(&mut banner).expect("the server starts");
    assert!(banner.contains("End Users API on"), "{banner}");
    // Keep reading what it prints (its warnings at the descriptor limit): a closed pipe would
    // make each of them fail.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let address = format!("127.0.0.1:{port}");

    // Far more idle connections than the server has descriptors for.
    let socket: std::net::SocketAddr = address.parse().expect("an address");
    let idle: Vec<TcpStream> = (0..200)
        .map_while(|_| TcpStream::connect_timeout(&socket, Duration::from_millis(300)).ok())
        .collect();
    assert!(idle.len() > 64, "only {} connections", idle.len());
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.try_wait().expect("status").is_none(),
        "the server exited"
    );
    drop(idle);
    std::thread::sleep(Duration::from_millis(500));

    let token = answerpal::http::auth::hs256_token(SECRET, 1, 600).expect("token");
    let mut stream = TcpStream::connect(&address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        stream,
        "GET /api/EndUsers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        server.try_wait().expect("status").is_none(),
        "the server exited"
    );
    server.kill().expect("stop the server");
    server.wait().expect("reap the server");
}
