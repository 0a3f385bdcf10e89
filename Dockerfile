# Build: docker build -t yanzhen .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -tags timetzdata -ldflags "-s -w" -o /out/yanzhen ./cmd/yanzhen

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/yanzhen /usr/local/bin/yanzhen
# Time zone data is compiled in (-tags timetzdata), so YANZHEN_TZ works on any base image.
WORKDIR /data
ENV YANZHEN_HTTP_ADDR=:8080 \
    YANZHEN_DATABASE_URL=sqlite:///data/yanzhen.db
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/yanzhen"]
CMD ["serve"]
