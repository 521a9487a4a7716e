# KL Shuttle server image (docker-compose.yml runs it twice, and once more as the simulated fleet).
# The OSM extract is mounted at run time (OSM_FILE), not baked in.
FROM node:20-bookworm-slim
WORKDIR /app
# dependencies first (cached while only sources change); npm ci needs every workspace's package.json
COPY package.json package-lock.json .npmrc ./
COPY routing/package.json routing/
COPY server/package.json server/
COPY control-room-ui/package.json control-room-ui/
COPY rider-app/package.json rider-app/
RUN npm ci --no-audit --no-fund
COPY . .
# the two web apps are served by the server from their dist/ folders
RUN npm run build -w control-room-ui && npm run build -w rider-app
EXPOSE 8080
# node is PID 1 (tsx as a loader, no npm wrapper), so the SIGTERM of `docker stop` reaches the shutdown hook
CMD ["node", "--import", "tsx", "server/src/main.ts"]
