FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && touch node_modules/.leakguard-installed
COPY services ./services
COPY streams ./streams
COPY models ./models
COPY scripts ./scripts
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
USER node
EXPOSE 8080
CMD ["node", "services/main.ts"]
