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
# The example config with the database in the volume and the listener on
# every interface of the container. cmd/wiredesk's tests check that these
# two lines still exist in config.example.toml.
RUN mkdir -p /out/data /out/etc && \
    sed -e 's|^path = "wiredesk.db"|path = "/data/wiredesk.db"|' \
        -e 's|^listen = "127.0.0.1:8080"|listen = ":8080"|' \
        config.example.toml > /out/etc/config.toml && \
    /out/wiredesk check --config /out/etc/config.toml

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/wiredesk /usr/local/bin/wiredesk
COPY --from=build /out/etc/config.toml /etc/wiredesk/config.toml
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/wiredesk"]
CMD ["serve", "--config", "/etc/wiredesk/config.toml"]
