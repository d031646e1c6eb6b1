"""Applications (relying parties) and the authentication steps each one offers."""
