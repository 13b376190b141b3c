-- CreateEnum
CREATE TYPE "job_status" AS ENUM ('queued', 'running', 'completed', 'failed');

-- CreateEnum
CREATE TYPE "emotion" AS ENUM ('neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised');

-- CreateTable
CREATE TABLE "recordings" (
    "id" UUID NOT NULL,
    "object_key" TEXT NOT NULL,
    "filename" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "sha256" CHAR(64) NOT NULL,
    "duration_seconds" DOUBLE PRECISION,
    "sample_rate" INTEGER,
    "channels" INTEGER,
    "format" TEXT,
    "job_id" UUID,
    "position" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "recordings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "jobs" (
    "id" UUID NOT NULL,
    "status" "job_status" NOT NULL DEFAULT 'queued',
    "total" INTEGER NOT NULL,
    "succeeded" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "callback_url" TEXT,
    "callback_status" TEXT,
    "callback_attempts" INTEGER NOT NULL DEFAULT 0,
    "callback_error" TEXT,
    "correlation_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "predictions" (
    "id" UUID NOT NULL,
    "recording_id" UUID NOT NULL,
    "job_id" UUID,
    "position" INTEGER,
    "filename" TEXT NOT NULL,
    "model_name" TEXT,
    "model_version" TEXT,
    "emotion" "emotion",
    "confidence" REAL,
    "neutral" REAL,
    "calm" REAL,
    "happy" REAL,
    "sad" REAL,
    "angry" REAL,
    "fearful" REAL,
    "disgust" REAL,
    "surprised" REAL,
    "timings" JSONB,
    "error_code" TEXT,
    "error" TEXT,
    "correlation_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "predictions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "recordings_object_key_key" ON "recordings"("object_key");

-- CreateIndex
CREATE INDEX "recordings_job_id_position_idx" ON "recordings"("job_id", "position");

-- CreateIndex
CREATE INDEX "recordings_sha256_idx" ON "recordings"("sha256");

-- CreateIndex
CREATE INDEX "jobs_created_at_id_idx" ON "jobs"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "jobs_status_created_at_id_idx" ON "jobs"("status", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "predictions_job_id_position_idx" ON "predictions"("job_id", "position");

-- CreateIndex
CREATE INDEX "predictions_created_at_id_idx" ON "predictions"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "predictions_emotion_created_at_idx" ON "predictions"("emotion", "created_at" DESC);

-- CreateIndex
CREATE INDEX "predictions_confidence_idx" ON "predictions"("confidence");

-- CreateIndex
CREATE UNIQUE INDEX "predictions_job_id_recording_id_key" ON "predictions"("job_id", "recording_id");

-- AddForeignKey
ALTER TABLE "recordings" ADD CONSTRAINT "recordings_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "predictions" ADD CONSTRAINT "predictions_recording_id_fkey" FOREIGN KEY ("recording_id") REFERENCES "recordings"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "predictions" ADD CONSTRAINT "predictions_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
