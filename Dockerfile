# syntax=docker/dockerfile:1
#
# Two stages: a Go toolchain builds a static, cgo-free binary (the SQLite
# driver is pure Go), and the runtime image holds only that binary, CA
# certificates, a default config and an empty /data owned by a non-root user.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/wiredesk/wiredesk.Version=${VERSION}" \
      -o /out/wiredesk ./cmd/wiredesk
# The runtime image keeps the example config as written; the environment
# below moves the database into the volume and the listener onto every
# interface of the container (see WIREDESK_* in the README). Check that the
# example loads with them, so a broken image fails to build.
RUN mkdir -p /out/data /out/etc && cp config.example.toml /out/etc/config.toml && \
    WIREDESK_DB=/data/wiredesk.db WIREDESK_LISTEN=:8080 \
      /out/wiredesk check --config /out/etc/config.toml

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/wiredesk /usr/local/bin/wiredesk
COPY --from=build /out/etc/config.toml /etc/wiredesk/config.toml
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV WIREDESK_CONFIG=/etc/wiredesk/config.toml \
    WIREDESK_DB=/data/wiredesk.db \
    WIREDESK_LISTEN=:8080
VOLUME /data
EXPOSE 8080
# No shell in the image: the binary checks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/wiredesk", "health"]
ENTRYPOINT ["/usr/local/bin/wiredesk"]
CMD ["serve"]
