# Distroless-equivalent base images, made from Debian bookworm packages when no registry is in
# reach (`checker images --offline`). They hold what gcr.io/distroless/*-debian12 hold: the
# files of a few Debian packages and a user database, with no shell and no package manager.
#
# Built by the checker through the engine API, one target per image:
#   static, static-nonroot   base-files, netbase, tzdata, the CA bundle, passwd/group
#   base, base-nonroot       static + libc6, libssl3
#   cc, cc-nonroot           base + libgcc-s1, libstdc++6
# No syntax directive and no heredocs: the engine's built-in frontend (Docker 20.10's too)
# must build this without fetching anything.
#
# Reproducible: every file's time is set to SOURCE_DATE_EPOCH, the newest file time inside
# the packages, so the same packages give the same layers (as debuerreotype does for the
# Debian images).

FROM debian:bookworm AS debs
# ca-certificates is installed here only to generate the bundle
# (/etc/ssl/certs/ca-certificates.crt) from the package's certificates; the images get the
# bundle, not the tool that makes it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && mkdir -p /debs /all \
 && cd /debs \
 && apt-get download base-files netbase tzdata ca-certificates libc6 libssl3 libgcc-s1 libstdc++6 \
 && for deb in /debs/*.deb; do dpkg-deb -x "$deb" /all; done \
 && find /all -type f -printf '%T@\n' | sort -n | tail -n 1 | cut -d. -f1 > /source-date-epoch \
 && rm -rf /all /var/lib/apt/lists/*

# unpack PACKAGE…: the files of each package into /rootfs, its control fields into
# /rootfs/var/lib/dpkg/status.d/<name> (what distroless ships, so scanners and the checker's
# `packages` goal see the packages), without the documentation beyond the copyright.
FROM debs AS unpack
RUN printf '%s\n' \
      '#!/bin/sh' \
      'set -eu' \
      'mkdir -p /rootfs/var/lib/dpkg/status.d' \
      'for p in "$@"; do' \
      '  deb=$(ls /debs/"$p"_*.deb)' \
      '  dpkg-deb -x "$deb" /rootfs' \
      '  { dpkg-deb -f "$deb"; echo "Status: install ok installed"; } > /rootfs/var/lib/dpkg/status.d/"$p"' \
      'done' \
      'rm -rf /rootfs/usr/share/man /rootfs/usr/share/info /rootfs/usr/share/lintian' \
      'find /rootfs/usr/share/doc -type f ! -name copyright -delete 2>/dev/null || true' \
      'find /rootfs/usr/share/doc -type d -empty -delete 2>/dev/null || true' \
      > /usr/local/bin/unpack \
 && printf '%s\n' \
      '#!/bin/sh' \
      'set -eu' \
      'epoch=$(cat /source-date-epoch)' \
      'find /rootfs -exec touch -h -d "@$epoch" {} +' \
      > /usr/local/bin/fix-times \
 && chmod 755 /usr/local/bin/unpack /usr/local/bin/fix-times

FROM unpack AS static-root
RUN unpack base-files netbase tzdata \
 && { dpkg-deb -f /debs/ca-certificates_*.deb; echo "Status: install ok installed"; } > /rootfs/var/lib/dpkg/status.d/ca-certificates \
 && mkdir -p /rootfs/etc/ssl/certs \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ca-certificates.crt \
 && printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' > /rootfs/etc/passwd \
 && printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' 'nonroot:x:65532:' > /rootfs/etc/group \
 && printf '%s\n' 'passwd: files' 'group: files' 'shadow: files' 'hosts: files dns' 'networks: files' 'protocols: files' 'services: files' > /rootfs/etc/nsswitch.conf \
 && mkdir -p /rootfs/home/nonroot /rootfs/root /rootfs/tmp \
 && chown 65532:65532 /rootfs/home/nonroot \
 && chmod 700 /rootfs/home/nonroot /rootfs/root \
 && chmod 1777 /rootfs/tmp \
 && chmod 644 /rootfs/etc/passwd /rootfs/etc/group /rootfs/etc/nsswitch.conf \
 && test -e /rootfs/etc/os-release \
 && fix-times

FROM unpack AS base-root
RUN unpack libc6 libssl3 && fix-times

FROM unpack AS cc-root
RUN unpack libgcc-s1 libstdc++6 && fix-times

FROM scratch AS static
COPY --from=static-root /rootfs /
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 0

FROM static AS static-nonroot
USER 65532
WORKDIR /home/nonroot

FROM static AS base
COPY --from=base-root /rootfs /

FROM base AS base-nonroot
USER 65532
WORKDIR /home/nonroot

FROM base AS cc
COPY --from=cc-root /rootfs /

FROM cc AS cc-nonroot
USER 65532
WORKDIR /home/nonroot
