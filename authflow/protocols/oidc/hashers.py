"""How client secrets are stored: Argon2id at OWASP's minimum cost.

A client secret is checked at every token request, so it gets a lighter
Argon2 than people's passwords (Django's default: 100 MiB, 8 lanes, about
200 ms here): 19 MiB, 2 passes, 1 lane.  Secrets are at least 16 characters
(configuration checks it) and normally long random strings.
"""
from django.contrib.auth.hashers import Argon2PasswordHasher


class ClientSecretHasher(Argon2PasswordHasher):
    algorithm = "argon2_client"
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
