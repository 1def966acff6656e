//! Serves any simulated [`Card`] to a real `pcscd` through vsmartcard's `vpcd` reader driver,
//! so PC/SC applications (our `pcsc`-based reader, `pcsc_scan`, `scriptor`, other EMV tools)
//! talk to the simulated card exactly as to a card in a physical reader.
//!
//! # The vpcd protocol
//!
//! `vpcd` (Debian package `vsmartcard-vpcd`) is a reader driver loaded by `pcscd`. Each of its
//! slots is a TCP *server*: slot 0 of the default configuration listens on port 35963
//! ([`DEFAULT_VPCD_ADDR`]), slot 1 on 35964. The card is the TCP client. Every message, in
//! both directions, is a 2-byte big-endian length followed by that many payload bytes:
//!
//! | vpcd → card | meaning | card → vpcd |
//! |---|---|---|
//! | `00` (length 1) | power off | nothing |
//! | `01` (length 1) | power on (cold reset) | nothing |
//! | `02` (length 1) | reset (warm reset) | nothing |
//! | `04` (length 1) | get ATR | the ATR |
//! | length > 1 | a command APDU | the response APDU |
//!
//! A new connection is a card insertion; a closed connection is a card removal. `pcscd`
//! polls presence by sending *get ATR* about every 400 ms. APDUs pass through untouched: `vpcd`
//! does no T=0/T=1 transport, so whatever protocol the ATR announces, the card sees and
//! answers whole APDUs (a card that wants T=0 behaviour must produce `61xx`/`6Cxx` itself).
//!
//! # What [`VpcdServer`] does with a [`Reply`]
//!
//! * [`Reply::Response`]: sent at once.
//! * [`Reply::Delayed`]: the server sleeps for the delay (real time: this is a real reader
//!   path, the application measures the wait) and then sends the response.
//! * [`Reply::Removed`] (tearing): vpcd has no "card removed" message, so the server sends no
//!   response, powers the card off and **closes the connection**, which `pcscd` reports as
//!   the card being absent (see below for what the application sees). The card stays out
//!   until [`VpcdServer::reinsert`] connects again, which `pcscd` sees as a new insertion
//!   (and powers the card on when an application connects). [`VpcdServer::remove`] pulls
//!   the card out between commands.
//!
//! What the application sees of a tear, measured with pcscd 1.9.9 and vpcd 3.3: `vpcd`
//! takes the end of stream for an *empty* response, so the torn `SCardTransmit` succeeds
//! with 0 bytes (no status word); the next one fails with `SCARD_E_NOT_TRANSACTED`, and the
//! reader reports no card. (A reset connection would make the torn transmit itself fail,
//! but the standard library cannot close with a reset without `SO_LINGER`, which is
//! unstable.) `pcscd` itself notices a removal only at its next presence poll, so
//! [`VpcdServer::reinsert`] keeps the card out for at least [`MIN_ABSENCE`]: an earlier
//! reconnection would go unseen, and `pcscd` would keep reporting an empty reader while the
//! card answers its polls.
//!
//! # Latency: `TCP_NODELAY` and `TCP_QUICKACK`
//!
//! `vpcd` 3.3 (Debian 12) writes the length and the payload of each message with two
//! `send()` calls and leaves Nagle's algorithm on, so its second write waits for the card's
//! delayed ACK: about 40 ms per message. The server re-arms `TCP_QUICKACK` after every read
//! (Linux clears it) so the ACK goes out at once, and sets `TCP_NODELAY` and writes each of
//! its own messages with a single write. Round trips then cost around 0.1 ms. Both options
//! are set through the standard library (`TCP_QUICKACK` via
//! `std::os::linux::net::TcpStreamExt`, stable since Rust 1.89); on other systems only
//! `TCP_NODELAY` is set.
//!
//! # Default ATR
//!
//! [`DEFAULT_ATR`] is a T=1 ATR that our own EMV ATR check
//! (`emv_hal::atr::Atr::parse(..).emv_check()`) accepts; simulated cards may use it as their
//! [`Card::atr`]. The server never looks at the ATR, it relays what the card returns.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::card::{Card, Reply};

/// Where `vpcd` listens for the card of its first slot in the default configuration
/// (`/etc/reader.conf.d/vpcd`, `CHANNELID 0x8C7B`): the reader `pcscd` names
/// `"Virtual PCD 00 00"`. The second slot (`"Virtual PCD 00 01"`) is on port 35964.
pub const DEFAULT_VPCD_ADDR: &str = "127.0.0.1:35963";

/// A T=1 ATR that EMV Level 1 §8.3 accepts (checked by a unit test against
/// `emv_hal::atr::Atr::emv_check`):
///
/// | byte | value | meaning |
/// |---|---|---|
/// | TS | `3B` | direct convention |
/// | T0 | `E0` | TB1, TC1, TD1 present; no historical bytes |
/// | TB1 | `00` | no programming voltage (required in a cold ATR) |
/// | TC1 | `00` | no extra guard time |
/// | TD1 | `81` | TD2 present; T=1 |
/// | TD2 | `31` | TA3, TB3 present; T=1 |
/// | TA3 | `FE` | IFSC = 254 |
/// | TB3 | `45` | BWI = 4, CWI = 5 |
/// | TCK | `EB` | XOR of T0..TB3 |
///
/// Negotiable mode without TA1: Fi = 372, Di = 1. `pcscd` selects T=1 with it.
pub const DEFAULT_ATR: [u8; 9] = [0x3B, 0xE0, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x45, 0xEB];

/// The largest payload a vpcd message can carry (the length field has 16 bits).
pub const MAX_MESSAGE_LEN: usize = u16::MAX as usize;

/// How long [`VpcdServer::serve_one`] waits for the start of a message before it returns
/// [`Event::Idle`]; it bounds how late [`VpcdServer::run`] notices its stop flag.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How long the rest of a message may take once its first byte has arrived.
pub const MESSAGE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long connecting to `vpcd` may take, per address.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a removed card stays out before [`VpcdServer::reinsert`] reconnects: longer
/// than two of `pcscd`'s ~400 ms presence polls, so that `pcscd` registers the removal.
pub const MIN_ABSENCE: Duration = Duration::from_secs(1);

/// vpcd control byte: power off.
const CTRL_OFF: u8 = 0x00;
/// vpcd control byte: power on.
const CTRL_ON: u8 = 0x01;
/// vpcd control byte: reset.
const CTRL_RESET: u8 = 0x02;
/// vpcd control byte: get ATR.
const CTRL_ATR: u8 = 0x04;

/// Why serving a card to `vpcd` failed.
#[derive(Debug, thiserror::Error)]
pub enum VpcdError {
    /// Nothing listens at the address: `pcscd` is not running, or runs without the vpcd
    /// driver.
    #[error(
        "connection to vpcd at {addr} refused: is pcscd running with the vsmartcard-vpcd \
         driver? try scripts/pcscd.sh start"
    )]
    NotRunning {
        /// The address tried.
        addr: SocketAddr,
        /// The refusal.
        #[source]
        source: io::Error,
    },
    /// Connecting failed for another reason (timeout, unreachable network).
    #[error("cannot connect to vpcd at {addr}: {source}")]
    Connect {
        /// The address tried (the last one when the name resolved to several).
        addr: SocketAddr,
        /// What went wrong.
        #[source]
        source: io::Error,
    },
    /// The address resolved to nothing.
    #[error("the vpcd address resolved to no socket address")]
    NoAddress,
    /// `vpcd` sent a message with length 0.
    #[error("protocol error: vpcd sent a zero-length message")]
    EmptyMessage,
    /// `vpcd` announced a message longer than the configured limit
    /// ([`VpcdServer::with_max_command_len`]).
    #[error("protocol error: vpcd announced a {len}-byte message, the limit is {max}")]
    MessageTooLong {
        /// Announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// `vpcd` sent a 1-byte control message with an unknown code.
    #[error("protocol error: unknown vpcd control byte {0:#04x}")]
    UnknownControl(u8),
    /// `vpcd` closed the connection in the middle of a message.
    #[error("protocol error: vpcd closed the connection in the middle of a message")]
    Truncated,
    /// The rest of a started message did not arrive within [`MESSAGE_TIMEOUT`].
    #[error("protocol error: vpcd stalled in the middle of a message")]
    Stalled,
    /// The card's ATR or response does not fit one vpcd message ([`MAX_MESSAGE_LEN`]).
    #[error("the card's {len}-byte answer does not fit a vpcd message (at most 65535 bytes)")]
    AnswerTooLong {
        /// Length of the answer.
        len: usize,
    },
    /// The card is out ([`Reply::Removed`], [`VpcdServer::remove`], or `vpcd` closed the
    /// connection); call [`VpcdServer::reinsert`] first.
    #[error("the card is not connected to vpcd (removed, or vpcd closed the connection)")]
    NotConnected,
    /// Reading from or writing to the connection failed.
    #[error("I/O error on the vpcd connection: {0}")]
    Io(#[from] io::Error),
}

/// What one call of [`VpcdServer::serve_one`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// No message arrived within [`POLL_INTERVAL`].
    Idle,
    /// `vpcd` powered the card off.
    PowerOff,
    /// `vpcd` powered the card on (cold reset).
    PowerOn,
    /// `vpcd` reset the card (warm reset).
    Reset,
    /// `vpcd` asked for the ATR and got it.
    Atr,
    /// A command APDU and the response the card sent back.
    Apdu {
        /// The command APDU.
        command: Vec<u8>,
        /// The response APDU.
        response: Vec<u8>,
        /// How long the card kept the reader waiting ([`Reply::Delayed`]; zero otherwise).
        delay: Duration,
    },
    /// The card was torn out while processing this command ([`Reply::Removed`]): the
    /// connection is closed, the card powered off.
    Removed {
        /// The command during which the card was removed.
        command: Vec<u8>,
    },
    /// `vpcd` closed the connection (`pcscd` stopped): the card is out.
    PeerClosed,
}

/// Why [`VpcdServer::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// The stop flag was set.
    Stopped,
    /// `vpcd` closed the connection.
    PeerClosed,
    /// The card answered [`Reply::Removed`]; [`VpcdServer::reinsert`] puts it back.
    CardRemoved,
}

/// A [`Card`] plugged into a vpcd slot: a TCP client of `vpcd` answering its messages.
#[derive(Debug)]
pub struct VpcdServer<C: Card> {
    card: C,
    addrs: Vec<SocketAddr>,
    stream: Option<TcpStream>,
    removed_at: Option<Instant>,
    max_command_len: usize,
}

impl<C: Card> VpcdServer<C> {
    /// Connects to `vpcd` at `addr` (usually [`DEFAULT_VPCD_ADDR`]), which `pcscd` sees as
    /// inserting `card`. `pcscd` powers the card on and reads its ATR on its own.
    ///
    /// # Errors
    /// [`VpcdError::NotRunning`] when the connection is refused (no `pcscd` with the vpcd
    /// driver), [`VpcdError::Connect`] or [`VpcdError::NoAddress`] otherwise.
    pub fn connect(card: C, addr: impl ToSocketAddrs) -> Result<Self, VpcdError> {
        let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
        let mut server = Self {
            card,
            addrs,
            stream: None,
            removed_at: None,
            max_command_len: MAX_MESSAGE_LEN,
        };
        server.reinsert()?;
        Ok(server)
    }

    /// Rejects messages from `vpcd` longer than `max` bytes with
    /// [`VpcdError::MessageTooLong`] (default and upper bound: [`MAX_MESSAGE_LEN`]).
    #[must_use]
    pub fn with_max_command_len(mut self, max: usize) -> Self {
        self.max_command_len = max.min(MAX_MESSAGE_LEN);
        self
    }

    /// Whether the card is plugged in (connected to `vpcd`).
    pub fn is_connected(&self) -> bool {
        self.stream.is_some()
    }

    /// The card.
    pub fn card(&self) -> &C {
        &self.card
    }

    /// The card, mutably.
    pub fn card_mut(&mut self) -> &mut C {
        &mut self.card
    }

    /// Closes the connection and takes the card back.
    pub fn into_card(mut self) -> C {
        self.disconnect();
        self.card
    }

    /// Pulls the card out between commands: powers it off and closes the connection, which
    /// `pcscd` reports as a removal at its next presence poll. Does nothing if the card is
    /// already out.
    pub fn remove(&mut self) {
        if self.stream.is_some() {
            self.disconnect();
            self.card.power_off();
        }
    }

    /// Puts the card back: connects to `vpcd` again (a no-op while connected). If the card
    /// was removed less than [`MIN_ABSENCE`] ago, first sleeps out the rest of it, so that
    /// `pcscd` sees the removal; it sees the new insertion at its next presence poll
    /// (~0.4 s).
    ///
    /// # Errors
    /// As [`VpcdServer::connect`].
    pub fn reinsert(&mut self) -> Result<(), VpcdError> {
        if self.stream.is_some() {
            return Ok(());
        }
        if let Some(removed_at) = self.removed_at.take() {
            std::thread::sleep(MIN_ABSENCE.saturating_sub(removed_at.elapsed()));
        }
        let mut last = Err(VpcdError::NoAddress);
        for &addr in &self.addrs {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(POLL_INTERVAL))?;
                    stream.set_write_timeout(Some(MESSAGE_TIMEOUT))?;
                    arm_quickack(&stream);
                    self.stream = Some(stream);
                    return Ok(());
                }
                Err(source) if source.kind() == io::ErrorKind::ConnectionRefused => {
                    last = Err(VpcdError::NotRunning { addr, source });
                }
                Err(source) => last = Err(VpcdError::Connect { addr, source }),
            }
        }
        last
    }

    /// Waits (at most [`POLL_INTERVAL`] for its start) for one message from `vpcd`, has the
    /// card handle it and sends the answer if the message calls for one.
    ///
    /// # Errors
    /// [`VpcdError::NotConnected`] when the card is out; protocol errors
    /// ([`VpcdError::EmptyMessage`], [`VpcdError::MessageTooLong`],
    /// [`VpcdError::UnknownControl`], [`VpcdError::Truncated`], [`VpcdError::Stalled`]),
    /// [`VpcdError::AnswerTooLong`] and [`VpcdError::Io`]. After an error the position in
    /// the message stream is unknown: drop the server or [`remove`](Self::remove) and
    /// [`reinsert`](Self::reinsert) the card.
    pub fn serve_one(&mut self) -> Result<Event, VpcdError> {
        let stream = self.stream.as_mut().ok_or(VpcdError::NotConnected)?;
        let mut header = [0u8; 2];
        match read_message_part(stream, &mut header, true)? {
            Part::Idle => return Ok(Event::Idle),
            Part::Closed => {
                self.disconnect();
                self.card.power_off();
                return Ok(Event::PeerClosed);
            }
            Part::Done => {}
        }
        let len = usize::from(u16::from_be_bytes(header));
        if len == 0 {
            return Err(VpcdError::EmptyMessage);
        }
        if len > self.max_command_len {
            return Err(VpcdError::MessageTooLong {
                len,
                max: self.max_command_len,
            });
        }
        let mut payload = vec![0u8; len];
        read_message_part(stream, &mut payload, false)?;

        if let &[control] = payload.as_slice() {
            return match control {
                CTRL_OFF => {
                    self.card.power_off();
                    Ok(Event::PowerOff)
                }
                CTRL_ON => {
                    self.card.power_on();
                    Ok(Event::PowerOn)
                }
                CTRL_RESET => {
                    self.card.reset();
                    Ok(Event::Reset)
                }
                CTRL_ATR => {
                    let atr = self.card.atr();
                    send_message(stream, &atr)?;
                    Ok(Event::Atr)
                }
                other => Err(VpcdError::UnknownControl(other)),
            };
        }

        let (response, delay) = match self.card.transmit(&payload) {
            Reply::Response(response) => (response, Duration::ZERO),
            Reply::Delayed(delay, response) => {
                std::thread::sleep(delay);
                (response, delay)
            }
            Reply::Removed => {
                self.remove();
                return Ok(Event::Removed { command: payload });
            }
        };
        send_message(stream, &response)?;
        Ok(Event::Apdu {
            command: payload,
            response,
            delay,
        })
    }

    /// Serves messages until `stop` is set (checked at least every [`POLL_INTERVAL`]),
    /// `vpcd` closes the connection, or the card is removed.
    ///
    /// # Errors
    /// As [`VpcdServer::serve_one`].
    pub fn run(&mut self, stop: &AtomicBool) -> Result<RunEnd, VpcdError> {
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(RunEnd::Stopped);
            }
            match self.serve_one()? {
                Event::PeerClosed => return Ok(RunEnd::PeerClosed),
                Event::Removed { .. } => return Ok(RunEnd::CardRemoved),
                _ => {}
            }
        }
    }

    /// Closes the connection (no card state change).
    fn disconnect(&mut self) {
        if let Some(stream) = self.stream.take() {
            self.removed_at = Some(Instant::now());
            // Already-closed sockets report an error here; closing is all we want.
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// Outcome of reading one part (header or payload) of a message.
enum Part {
    /// The buffer is full.
    Done,
    /// Nothing arrived within the read timeout (only when waiting for a message to start).
    Idle,
    /// The peer closed the connection before the message started.
    Closed,
}

/// Fills `buf` from the stream. Before the first byte of a message (`message_start`), a read
/// timeout yields [`Part::Idle`] and end of stream [`Part::Closed`]; once the message has
/// started, timeouts are retried until [`MESSAGE_TIMEOUT`] and end of stream is
/// [`VpcdError::Truncated`]. `TCP_QUICKACK` is re-armed after every read.
fn read_message_part(
    stream: &mut TcpStream,
    buf: &mut [u8],
    message_start: bool,
) -> Result<Part, VpcdError> {
    let mut filled = 0;
    let mut deadline = (!message_start).then(|| Instant::now() + MESSAGE_TIMEOUT);
    while let Some(rest) = buf.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        match stream.read(rest) {
            Ok(0) if filled == 0 && message_start => return Ok(Part::Closed),
            Ok(0) => return Err(VpcdError::Truncated),
            Ok(n) => {
                arm_quickack(stream);
                filled += n;
                deadline.get_or_insert_with(|| Instant::now() + MESSAGE_TIMEOUT);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                match deadline {
                    None => return Ok(Part::Idle),
                    Some(deadline) if Instant::now() >= deadline => {
                        return Err(VpcdError::Stalled);
                    }
                    Some(_) => {}
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Part::Done)
}

/// Sends one message (length and payload in a single write).
fn send_message(stream: &mut TcpStream, payload: &[u8]) -> Result<(), VpcdError> {
    let len = u16::try_from(payload.len())
        .map_err(|_| VpcdError::AnswerTooLong { len: payload.len() })?;
    let mut message = Vec::with_capacity(payload.len() + 2);
    message.extend_from_slice(&len.to_be_bytes());
    message.extend_from_slice(payload);
    stream.write_all(&message)?;
    Ok(())
}

/// Asks Linux to acknowledge the next segments at once (see the module docs). Best effort:
/// failing only costs latency.
#[cfg(target_os = "linux")]
fn arm_quickack(stream: &TcpStream) {
    use std::os::linux::net::TcpStreamExt;
    let _ = stream.set_quickack(true);
}

/// No `TCP_QUICKACK` outside Linux.
#[cfg(not(target_os = "linux"))]
fn arm_quickack(_stream: &TcpStream) {}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use std::net::TcpListener;
    use std::thread;

    use emv_hal::atr::{Atr, EmvProtocol};

    use super::*;

    /// Records what happens to it; `00 EE` tears, `00 DD` answers after 30 ms, `00 FF`
    /// answers with 70 000 bytes, anything else echoes the command's INS followed by 9000.
    #[derive(Debug, Default)]
    struct Probe {
        log: Vec<&'static str>,
    }

    impl Card for Probe {
        fn atr(&self) -> Vec<u8> {
            DEFAULT_ATR.to_vec()
        }
        fn power_on(&mut self) {
            self.log.push("on");
        }
        fn power_off(&mut self) {
            self.log.push("off");
        }
        fn reset(&mut self) {
            self.log.push("reset");
        }
        fn transmit(&mut self, command: &[u8]) -> Reply {
            match command[1] {
                0xEE => Reply::Removed,
                0xDD => Reply::Delayed(Duration::from_millis(30), vec![0x90, 0x00]),
                0xFF => Reply::Response(vec![0; 70_000]),
                ins => Reply::Response(vec![ins, 0x90, 0x00]),
            }
        }
    }

    /// A fake vpcd: a listener, the server connected to it, and the accepted socket.
    fn setup() -> (VpcdServer<Probe>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = VpcdServer::connect(Probe::default(), listener.local_addr().unwrap()).unwrap();
        let (vpcd, _) = listener.accept().unwrap();
        vpcd.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        (server, vpcd)
    }

    fn send(vpcd: &mut TcpStream, payload: &[u8]) {
        let mut message = u16::try_from(payload.len()).unwrap().to_be_bytes().to_vec();
        message.extend_from_slice(payload);
        vpcd.write_all(&message).unwrap();
    }

    fn receive(vpcd: &mut TcpStream) -> Vec<u8> {
        let mut header = [0u8; 2];
        vpcd.read_exact(&mut header).unwrap();
        let mut payload = vec![0u8; usize::from(u16::from_be_bytes(header))];
        vpcd.read_exact(&mut payload).unwrap();
        payload
    }

    #[test]
    fn default_atr_is_emv_t1() {
        let atr = Atr::parse(&DEFAULT_ATR).unwrap();
        let params = atr.emv_check().unwrap();
        assert_eq!(params.protocol(), EmvProtocol::T1);
        assert!(atr.historical_bytes().is_empty());
    }

    #[test]
    fn control_messages_and_apdus_round_trip() {
        let (mut server, mut vpcd) = setup();
        send(&mut vpcd, &[CTRL_ON]);
        assert_eq!(server.serve_one().unwrap(), Event::PowerOn);
        send(&mut vpcd, &[CTRL_ATR]);
        assert_eq!(server.serve_one().unwrap(), Event::Atr);
        assert_eq!(receive(&mut vpcd), DEFAULT_ATR);
        send(&mut vpcd, &[0x00, 0xB2, 0x01, 0x0C, 0x00]);
        assert_eq!(
            server.serve_one().unwrap(),
            Event::Apdu {
                command: vec![0x00, 0xB2, 0x01, 0x0C, 0x00],
                response: vec![0xB2, 0x90, 0x00],
                delay: Duration::ZERO,
            }
        );
        assert_eq!(receive(&mut vpcd), [0xB2, 0x90, 0x00]);
        send(&mut vpcd, &[CTRL_RESET]);
        assert_eq!(server.serve_one().unwrap(), Event::Reset);
        send(&mut vpcd, &[CTRL_OFF]);
        assert_eq!(server.serve_one().unwrap(), Event::PowerOff);
        assert_eq!(server.card().log, ["on", "reset", "off"]);
        // Nothing pending: idle after the poll interval.
        assert_eq!(server.serve_one().unwrap(), Event::Idle);
    }

    #[test]
    fn delayed_reply_waits_in_real_time() {
        let (mut server, mut vpcd) = setup();
        send(&mut vpcd, &[0x00, 0xDD, 0x00, 0x00]);
        let start = Instant::now();
        let event = server.serve_one().unwrap();
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert!(matches!(event, Event::Apdu { delay, .. } if delay == Duration::from_millis(30)));
        assert_eq!(receive(&mut vpcd), [0x90, 0x00]);
    }

    #[test]
    fn message_split_across_poll_intervals_is_reassembled() {
        let (mut server, mut vpcd) = setup();
        let writer = thread::spawn(move || {
            vpcd.write_all(&[0x00]).unwrap();
            thread::sleep(POLL_INTERVAL * 2);
            vpcd.write_all(&[0x04, 0x00, 0xCA]).unwrap();
            thread::sleep(POLL_INTERVAL * 2);
            vpcd.write_all(&[0x9F, 0x36]).unwrap();
            receive(&mut vpcd)
        });
        let event = server.serve_one().unwrap();
        assert!(
            matches!(event, Event::Apdu { ref command, .. } if command == &[0x00, 0xCA, 0x9F, 0x36])
        );
        assert_eq!(writer.join().unwrap(), [0xCA, 0x90, 0x00]);
    }

    #[test]
    fn zero_length_message_is_an_error() {
        let (mut server, mut vpcd) = setup();
        vpcd.write_all(&[0x00, 0x00]).unwrap();
        assert!(matches!(server.serve_one(), Err(VpcdError::EmptyMessage)));
    }

    #[test]
    fn oversized_message_is_an_error() {
        let (server, mut vpcd) = setup();
        let mut server = server.with_max_command_len(261);
        vpcd.write_all(&[0x01, 0x2C]).unwrap();
        assert!(matches!(
            server.serve_one(),
            Err(VpcdError::MessageTooLong { len: 300, max: 261 })
        ));
    }

    #[test]
    fn unknown_control_byte_is_an_error() {
        let (mut server, mut vpcd) = setup();
        send(&mut vpcd, &[0x03]);
        assert!(matches!(
            server.serve_one(),
            Err(VpcdError::UnknownControl(0x03))
        ));
    }

    #[test]
    fn truncated_message_is_an_error() {
        let (mut server, mut vpcd) = setup();
        vpcd.write_all(&[0x00, 0x05, 0x00, 0xA4]).unwrap();
        drop(vpcd);
        assert!(matches!(server.serve_one(), Err(VpcdError::Truncated)));
    }

    #[test]
    fn answer_longer_than_a_message_is_an_error() {
        let (mut server, mut vpcd) = setup();
        send(&mut vpcd, &[0x00, 0xFF, 0x00, 0x00]);
        assert!(matches!(
            server.serve_one(),
            Err(VpcdError::AnswerTooLong { len: 70_000 })
        ));
    }

    #[test]
    fn peer_close_ends_run_cleanly() {
        let (mut server, mut vpcd) = setup();
        send(&mut vpcd, &[CTRL_ON]);
        send(&mut vpcd, &[0x00, 0x84, 0x00, 0x00, 0x08]);
        let reader = thread::spawn(move || {
            let response = receive(&mut vpcd);
            drop(vpcd);
            response
        });
        let stop = AtomicBool::new(false);
        assert_eq!(server.run(&stop).unwrap(), RunEnd::PeerClosed);
        assert_eq!(reader.join().unwrap(), [0x84, 0x90, 0x00]);
        assert!(!server.is_connected());
        assert_eq!(server.card().log, ["on", "off"]);
        assert!(matches!(server.serve_one(), Err(VpcdError::NotConnected)));
    }

    #[test]
    fn stop_flag_ends_run() {
        let (mut server, _vpcd) = setup();
        let stop = AtomicBool::new(false);
        thread::scope(|scope| {
            scope.spawn(|| {
                thread::sleep(POLL_INTERVAL);
                stop.store(true, Ordering::Relaxed);
            });
            let start = Instant::now();
            assert_eq!(server.run(&stop).unwrap(), RunEnd::Stopped);
            assert!(start.elapsed() < POLL_INTERVAL * 5);
        });
        assert!(server.is_connected());
    }

    #[test]
    fn removal_closes_the_connection_and_reinsert_reconnects() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut server =
            VpcdServer::connect(Probe::default(), listener.local_addr().unwrap()).unwrap();
        let (mut vpcd, _) = listener.accept().unwrap();
        vpcd.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        send(&mut vpcd, &[CTRL_ON]);
        send(&mut vpcd, &[0x00, 0xEE, 0x00, 0x00]);
        let stop = AtomicBool::new(false);
        assert_eq!(server.run(&stop).unwrap(), RunEnd::CardRemoved);
        assert!(!server.is_connected());
        assert_eq!(server.card().log, ["on", "off"]);
        // No answer: the fake vpcd sees the connection closed.
        let mut byte = [0u8; 1];
        assert_eq!(vpcd.read(&mut byte).unwrap(), 0);

        server.reinsert().unwrap();
        let (mut vpcd, _) = listener.accept().unwrap();
        vpcd.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        send(&mut vpcd, &[CTRL_ATR]);
        assert_eq!(server.serve_one().unwrap(), Event::Atr);
        assert_eq!(receive(&mut vpcd), DEFAULT_ATR);
    }

    #[test]
    fn refused_connection_points_at_the_script() {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let err = VpcdServer::connect(Probe::default(), ("127.0.0.1", port)).unwrap_err();
        assert!(matches!(err, VpcdError::NotRunning { .. }), "{err:?}");
        assert!(err.to_string().contains("scripts/pcscd.sh start"), "{err}");
    }
}
