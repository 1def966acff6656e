//! Behavioural models of reader chips, for testing drivers against
//! behaviour rather than call lists: each model implements the bus traits
//! (`embedded-hal` I2C/SPI, `embedded-io` UART) and answers as the chip
//! does, with a simulated card behind it.

pub mod pn532;
pub mod uart_card;
