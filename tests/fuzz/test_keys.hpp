#pragma once
// Keys of the jwt and http_request fuzz targets and of their seed corpora (make_corpus.py reads
// them from here). Test material only: a 1024-bit RSA key (signing every input with it must stay
// cheap) and an HS256 secret, used nowhere else.

#include <string_view>

namespace tenant::fuzz {

inline constexpr std::string_view test_hs256_secret = "tenantd-fuzz-hs256-secret-0123456789abcdef";

inline constexpr std::string_view test_rsa_private_pem = R"PEM(-----BEGIN PRIVATE KEY-----
MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBANFwDLsSwEKVkQ4q
ScJHqNI6E43Ptk3LN1UsUctAW/QWspBN8AFuUDyapHgDN6KU1IUg0ZfTnRIL97Ov
n2pD7iTMXqMQGBaxX7dEMPVJcJ15C9/3qFCDR3juGYsxGz7iScxt9a80zHjVLndc
oRKzJ+6zoOOAZLxornFqZFF+oDXnAgMBAAECgYAJkwnB85V+db/v2dcNXqFFGwqR
zREUdVnONvx2Qjbx7ae0GRwDtLtOSfOC2QLOF+evPlTWkAH6NTnZqQmsnfZg+w01
SsdwIgVFqVPWhRE65bGTKZ98XgRRBYa4ai80XANF0j7HYmzxleNfnUufTB1D3WPo
gI4WsNyp+l5CYDkTQQJBAPixB6EwCffavdKRSH5Fa3aRCW5nQUyzK722X+ct6jvM
WTneZYhszcmvOtikiT0qkxZhnP9qj5vQ5bgWzXhOuF8CQQDXl7QLCqnSsRekFJRz
Ai8Giny209vRAnCT3rsayu80tKnCkNNPuIhIQOcC2v2xEjVy4n0mhgf6CWTQs6Wm
Uo95AkB0H+XaJF5jN+bvThu1qqC1aqAmx1w8fmVsXp6FinEXnyIC3ZA3lea5yHMH
+jyDLUAlcUsoERAhx/eccDlddhStAkEA0xHAwPaloJKklI1ZcOd4Zqz6wHvWP2Bm
Gz76a5a2biFZ+hST7P663hI8mL0RlmQ/U8SNxkN+V7sOqozW5mj58QJABFk9mkV5
Cfd8UeymBFdbJvLCwOzdSGeEw+z/5q3cXDvlK7PhmLH029TVFo8m7x5esSph3wNF
S5FPFcMllThODw==
-----END PRIVATE KEY-----
)PEM";

inline constexpr std::string_view test_rsa_public_pem = R"PEM(-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDRcAy7EsBClZEOKknCR6jSOhON
z7ZNyzdVLFHLQFv0FrKQTfABblA8mqR4AzeilNSFINGX050SC/ezr59qQ+4kzF6j
EBgWsV+3RDD1SXCdeQvf96hQg0d47hmLMRs+4knMbfWvNMx41S53XKESsyfus6Dj
gGS8aK5xamRRfqA15wIDAQAB
-----END PUBLIC KEY-----
)PEM";

}  // namespace tenant::fuzz
