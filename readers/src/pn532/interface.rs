//! Board wiring: the three PN532 host interfaces (NXP UM0701-02 §6.2.4–§6.2.6, PN532 data
//! sheet §8.3.4–§8.3.6), each behind [`Interface`], separate from the command set
//! ([`super::Pn532`]) and the ISO/IEC 14443 protocol (`emv-hal`), as lora-phy separates
//! `InterfaceVariant`, `RadioKind` and `LoRa`.
//!
//! * [`I2cInterface`]: `embedded_hal::i2c::I2c`, 7-bit address `0x24`. Every read starts
//!   with the status byte; `01` = a frame is ready, then the frame follows in the same read.
//!   An address NACK while the chip is busy is taken as "not ready" (some PN532 boards
//!   answer so).
//! * [`SpiInterface`]: `embedded_hal::spi::SpiDevice` (mode 0, ≤ 5 MHz, chip select owned by
//!   the device). First byte of each transaction: `01` data write, `02` status read (one
//!   byte back, b0 = ready), `03` data read. **The PN532 shifts LSB first.**
//!   `embedded-hal` has no bit-order setting, so the board chooses with [`BitOrder`]:
//!   [`BitOrder::LsbFirst`] when the MCU's SPI peripheral is configured LSB-first (preferred:
//!   no CPU cost), or [`BitOrder::MsbFirstReversed`] when it can only shift MSB-first and the
//!   driver reverses every byte in software.
//! * [`HsuInterface`]: a UART (`embedded_io::{Read, Write, ReadReady}`, 115200 8N1 by
//!   default). No status byte: a frame is ready when bytes are. [`Interface::wake_up`]
//!   sends the HSU wake-up preamble `55 55 00 00 …` that takes the chip out of power-down;
//!   SAMConfiguration must follow (UM0701-02 §7.2.10; wake-up conditions in §7.2.11
//!   PowerDown) \[S: libnfc `pn532_uart.c`\].
//!
//! Bus errors stay generic ([`Interface::Error`] is the bus's own error).

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::{self, I2c, NoAcknowledgeSource, Operation as I2cOperation};
use embedded_hal::spi::{Operation as SpiOperation, SpiDevice};

use super::frame::{self, MAX_FRAME_LEN};

/// The PN532's 7-bit I2C address.
pub const I2C_ADDRESS: u8 = 0x24;
/// The I2C/SPI status byte value that says a frame is ready.
pub const STATUS_READY: u8 = 0x01;
/// SPI: data write.
pub const SPI_DATA_WRITE: u8 = 0x01;
/// SPI: status read.
pub const SPI_STATUS_READ: u8 = 0x02;
/// SPI: data read.
pub const SPI_DATA_READ: u8 = 0x03;
/// The HSU wake-up sequence: `55 55` and zeros (the chip needs a long preamble to leave
/// power-down) \[S: libnfc `pn532_uart_wakeup`\].
pub const HSU_WAKE_UP: [u8; 16] = [
    0x55, 0x55, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];
/// HSU: how long to wait for the next byte of a frame that has started (about 100 byte times
/// at 115200 Bd).
pub const HSU_BYTE_TIMEOUT_US: u32 = 10_000;
/// HSU: the polling step while waiting for a byte.
pub const HSU_POLL_US: u32 = 100;

/// A PN532 host interface: moves whole frames and tells whether the chip has one ready.
pub trait Interface {
    /// The bus's own error, kept generic.
    type Error: core::fmt::Debug;

    /// Writes one complete frame (command, ACK or NACK).
    ///
    /// # Errors
    /// The bus error.
    fn write_frame(&mut self, frame: &[u8]) -> Result<(), Self::Error>;

    /// Whether the chip has a frame ready (I2C/SPI status byte; HSU: bytes received).
    ///
    /// # Errors
    /// The bus error.
    fn ready(&mut self) -> Result<bool, Self::Error>;

    /// Reads the ready frame into `buf` (at most `buf.len()` bytes). Returns `None` when the
    /// chip turned out not to be ready, else the number of bytes read; the bytes may carry
    /// padding after the frame (I2C/SPI read a fixed length) or be cut short.
    ///
    /// # Errors
    /// The bus error.
    fn read_frame<D: DelayNs>(
        &mut self,
        buf: &mut [u8],
        delay: &mut D,
    ) -> Result<Option<usize>, Self::Error>;

    /// Wakes the chip up before the first command (HSU only; I2C and SPI wake on their own
    /// chip select or address).
    ///
    /// # Errors
    /// The bus error.
    fn wake_up(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }

    /// Discards received bytes not yet read (HSU only), before a new frame is sent.
    ///
    /// # Errors
    /// The bus error.
    fn discard_input(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl<T: Interface + ?Sized> Interface for &mut T {
    type Error = T::Error;
    fn write_frame(&mut self, frame: &[u8]) -> Result<(), Self::Error> {
        (**self).write_frame(frame)
    }
    fn ready(&mut self) -> Result<bool, Self::Error> {
        (**self).ready()
    }
    fn read_frame<D: DelayNs>(
        &mut self,
        buf: &mut [u8],
        delay: &mut D,
    ) -> Result<Option<usize>, Self::Error> {
        (**self).read_frame(buf, delay)
    }
    fn wake_up(&mut self) -> Result<(), Self::Error> {
        (**self).wake_up()
    }
    fn discard_input(&mut self) -> Result<(), Self::Error> {
        (**self).discard_input()
    }
}

/// The PN532 on I2C.
#[derive(Debug)]
pub struct I2cInterface<I> {
    i2c: I,
    address: u8,
}

impl<I: I2c> I2cInterface<I> {
    /// The chip at [`I2C_ADDRESS`].
    pub const fn new(i2c: I) -> Self {
        Self {
            i2c,
            address: I2C_ADDRESS,
        }
    }

    /// Gives the bus back.
    pub fn release(self) -> I {
        self.i2c
    }
}

fn busy<E: i2c::Error>(e: &E) -> bool {
    matches!(
        e.kind(),
        i2c::ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)
    )
}

impl<I: I2c> Interface for I2cInterface<I> {
    type Error = I::Error;

    fn write_frame(&mut self, frame: &[u8]) -> Result<(), Self::Error> {
        self.i2c.write(self.address, frame)
    }

    fn ready(&mut self) -> Result<bool, Self::Error> {
        let mut status = [0u8];
        match self.i2c.read(self.address, &mut status) {
            Ok(()) => Ok(status[0] & STATUS_READY != 0),
            Err(e) if busy(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn read_frame<D: DelayNs>(
        &mut self,
        buf: &mut [u8],
        _delay: &mut D,
    ) -> Result<Option<usize>, Self::Error> {
        let mut status = [0u8];
        // Two adjacent reads are one I2C read: the status byte, then the frame.
        let result = self.i2c.transaction(
            self.address,
            &mut [I2cOperation::Read(&mut status), I2cOperation::Read(buf)],
        );
        match result {
            Ok(()) if status[0] & STATUS_READY != 0 => Ok(Some(buf.len())),
            Ok(()) => Ok(None),
            Err(e) if busy(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// How the board's SPI peripheral shifts bits; the PN532 expects LSB first on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOrder {
    /// The SPI peripheral is configured LSB-first: bytes go as they are.
    LsbFirst,
    /// The SPI peripheral shifts MSB-first: the driver reverses the bits of every byte sent
    /// and received.
    MsbFirstReversed,
}

/// The PN532 on SPI.
#[derive(Debug)]
pub struct SpiInterface<S> {
    spi: S,
    order: BitOrder,
    scratch: [u8; MAX_FRAME_LEN + 1],
}

impl<S: SpiDevice> SpiInterface<S> {
    /// The chip behind `spi`, whose peripheral shifts bits in `order`.
    pub const fn new(spi: S, order: BitOrder) -> Self {
        Self {
            spi,
            order,
            scratch: [0; MAX_FRAME_LEN + 1],
        }
    }

    /// Gives the device back.
    pub fn release(self) -> S {
        self.spi
    }

    const fn wire(&self, b: u8) -> u8 {
        match self.order {
            BitOrder::LsbFirst => b,
            BitOrder::MsbFirstReversed => b.reverse_bits(),
        }
    }
}

impl<S: SpiDevice> Interface for SpiInterface<S> {
    type Error = S::Error;

    fn write_frame(&mut self, frame: &[u8]) -> Result<(), Self::Error> {
        let n = frame.len().min(MAX_FRAME_LEN) + 1;
        let order = self.order;
        let wire = |b: u8| match order {
            BitOrder::LsbFirst => b,
            BitOrder::MsbFirstReversed => b.reverse_bits(),
        };
        let out = self.scratch.get_mut(..n).unwrap_or(&mut []);
        for (o, b) in out
            .iter_mut()
            .zip(core::iter::once(&SPI_DATA_WRITE).chain(frame))
        {
            *o = wire(*b);
        }
        self.spi.write(out)
    }

    fn ready(&mut self) -> Result<bool, Self::Error> {
        let mut status = [0u8];
        self.spi.transaction(&mut [
            SpiOperation::Write(&[self.wire(SPI_STATUS_READ)]),
            SpiOperation::Read(&mut status),
        ])?;
        Ok(self.wire(status[0]) & STATUS_READY != 0)
    }

    fn read_frame<D: DelayNs>(
        &mut self,
        buf: &mut [u8],
        _delay: &mut D,
    ) -> Result<Option<usize>, Self::Error> {
        self.spi.transaction(&mut [
            SpiOperation::Write(&[self.wire(SPI_DATA_READ)]),
            SpiOperation::Read(buf),
        ])?;
        if self.order == BitOrder::MsbFirstReversed {
            for b in buf.iter_mut() {
                *b = b.reverse_bits();
            }
        }
        Ok(Some(buf.len()))
    }
}

/// The PN532 on its high-speed UART.
#[derive(Debug)]
pub struct HsuInterface<U> {
    uart: U,
}

impl<U> HsuInterface<U>
where
    U: embedded_io::Read + embedded_io::Write + embedded_io::ReadReady,
{
    /// The chip behind `uart` (configured 115200 8N1 by the board).
    pub const fn new(uart: U) -> Self {
        Self { uart }
    }

    /// Gives the UART back.
    pub fn release(self) -> U {
        self.uart
    }
}

impl<U> Interface for HsuInterface<U>
where
    U: embedded_io::Read + embedded_io::Write + embedded_io::ReadReady,
{
    type Error = U::Error;

    fn write_frame(&mut self, frame: &[u8]) -> Result<(), Self::Error> {
        self.uart.write_all(frame)?;
        self.uart.flush()
    }

    fn ready(&mut self) -> Result<bool, Self::Error> {
        self.uart.read_ready()
    }

    /// Reads byte by byte until the frame announced by its header is complete
    /// ([`frame::wire_len`]), `buf` is full, or no byte came for [`HSU_BYTE_TIMEOUT_US`].
    fn read_frame<D: DelayNs>(
        &mut self,
        buf: &mut [u8],
        delay: &mut D,
    ) -> Result<Option<usize>, Self::Error> {
        let mut n = 0usize;
        while n < buf.len() {
            let mut waited = 0u32;
            loop {
                if self.uart.read_ready()? {
                    let Some(slot) = buf.get_mut(n..=n) else {
                        return Ok(Some(n));
                    };
                    if self.uart.read(slot)? > 0 {
                        n += 1;
                        break;
                    }
                }
                if waited >= HSU_BYTE_TIMEOUT_US {
                    return Ok((n > 0).then_some(n));
                }
                delay.delay_us(HSU_POLL_US);
                waited = waited.saturating_add(HSU_POLL_US);
            }
            if let Some(total) = buf.get(..n).and_then(frame::wire_len)
                && n >= total
            {
                break;
            }
        }
        Ok((n > 0).then_some(n))
    }

    fn wake_up(&mut self) -> Result<(), Self::Error> {
        self.uart.write_all(&HSU_WAKE_UP)?;
        self.uart.flush()
    }

    fn discard_input(&mut self) -> Result<(), Self::Error> {
        let mut sink = [0u8; 32];
        // Bounded: at most a few frames' worth.
        for _ in 0..64 {
            if !self.uart.read_ready()? || self.uart.read(&mut sink)? == 0 {
                break;
            }
        }
        Ok(())
    }
}
