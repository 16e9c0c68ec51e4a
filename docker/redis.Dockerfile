# Redis from Debian's archive, so the deployment builds without pulling
# from any image registry. It runs as the user redis; its data (the
# append-only file) is in /data, a volume in docker-compose.yml, which
# also gives the settings (AOF, ACL file, noeviction: an evicted key is a
# lost job).
FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
      --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown redis:redis /data
USER redis
WORKDIR /data
EXPOSE 6379
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", \
     "--appendonly", "yes", "--dir", "/data", "--maxmemory-policy", "noeviction"]
