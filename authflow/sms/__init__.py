"""Text messages (the SMS OTP authenticator's codes): a pluggable sender, and the task that sends them."""
