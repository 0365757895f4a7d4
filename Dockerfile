FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
# The stamp scripts/run.sh compares with the lock file (its checksum): every `npm run` in the
# container (as node, who cannot write node_modules) takes these dependencies as installed.
RUN npm ci --omit=dev --no-audit --no-fund && cksum < package-lock.json > node_modules/.leakguard-installed
COPY services ./services
COPY streams ./streams
COPY models ./models
COPY scripts ./scripts
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
# The audit checkpoints' volume: created from this directory, so the engine (node) may append to it.
RUN mkdir -p /var/lib/leakguard-audit && chown node:node /var/lib/leakguard-audit
USER node
EXPOSE 8080
CMD ["node", "services/main.ts"]
