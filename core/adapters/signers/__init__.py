"""Signers: a follower's key behind a reference (`factory.resolve`)."""

# The reference forms `factory.resolve` accepts, by scheme; the CLI's --signer help lists
# them from here (importing this package costs nothing; the factory loads eth_account).
REF_FORMS = {
    "keystore": "keystore:PATH",
    "env": "env:VAR",
    "kms": "kms:KEY_ID",
}
REF_HELP = "keystore:PATH, env:VAR or kms:KEY_ID (a KMS key id, ARN or alias)"
