# Rebound's image: built with the Swift toolchain, shipped on a small non-root runtime.
#   docker build -t rebound:0.1.0 .
FROM swift:6.3-bookworm AS build
WORKDIR /src
# Dependencies first, so editing sources does not refetch them; exactly the versions pinned in
# Package.resolved (the build fails rather than resolve anything newer).
COPY Package.swift Package.resolved ./
RUN swift package --force-resolved-versions resolve
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks ./Benchmarks
RUN swift build -c release --product rebound --static-swift-stdlib --force-resolved-versions \
 && mkdir /out && cp "$(swift build -c release --show-bin-path)/rebound" /out/rebound

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 65532 --user-group --no-create-home --shell /usr/sbin/nologin rebound
COPY --from=build /out/rebound /usr/local/bin/rebound
USER 65532:65532
EXPOSE 8443 8444 8081
ENTRYPOINT ["/usr/local/bin/rebound"]
CMD ["serve"]
