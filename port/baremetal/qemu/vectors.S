/* vectors.S — the recorded enrollment the QEMU firmware replays, from
 * tests/vectors/device/ (see its README), each NUL-terminated. */
    .section .rodata.vectors_data, "a"
    .global vec_key, vec_token, vec_response, vec_response_end, vec_root
vec_key:
    .incbin "tests/vectors/device/device.key"
    .byte 0
vec_token:
    .incbin "tests/vectors/device/device.jwt"
    .byte 0
vec_response:
    .incbin "tests/vectors/device/enroll_200.http"
vec_response_end:
    .byte 0
vec_root:
    .incbin "tests/vectors/device/rootCA.pem"
    .byte 0
