# One image for the four services (they share the workspace's packages); the
# compose file picks the service with its command.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg ca-certificates && rm -rf /var/lib/apt/lists/* \
 && npm install -g pnpm@10.34.9
WORKDIR /app
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
COPY packages packages
COPY services services
COPY proto proto
COPY scripts scripts
COPY models/ser-default models/ser-default
COPY tsconfig.base.json tsconfig.json ./
RUN pnpm install --frozen-lockfile && (cd packages/db && node_modules/.bin/prisma generate)
ENV NODE_ENV=production
USER node
