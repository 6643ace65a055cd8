//! Files deskprov serves to every phone besides configs: firmware images from the firmware
//! directory, and the site's private CA certificate.

/// Where firmware files are served, below the provisioning base URL.
pub const URL_DIRECTORY: &str = "firmware/";
/// The site CA (the `ca_certificate` setting) in PEM and in DER form.
pub const CA_PEM_FILE: &str = "site-ca.pem";
pub const CA_DER_FILE: &str = "site-ca.der";
