"""What makes a request valid: body parsing, schema errors explained, the named request rules and `Problem`. No Flask here."""
